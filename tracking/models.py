"""QR codes and their scans; clicks on tracked links in campaigns."""

import secrets

from django.db import models

from accounts.models import Business
from subscribers.models import Keyword, SenderNumber

# Characters that survive being read aloud or typed from a poster: no 0/O, 1/I/L.
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_slug() -> str:
    """The code's URL path: unguessable (about 71 bits)."""
    return secrets.token_urlsafe(9)


def new_ref() -> str:
    """The short reference texted with the keyword ("JOIN Q7K2"), unique per number."""
    return "Q" + "".join(secrets.choice(REF_ALPHABET) for _ in range(3))


class QRCode(models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="qr_codes")
    number = models.ForeignKey(SenderNumber, on_delete=models.CASCADE, related_name="qr_codes")
    keyword = models.ForeignKey(Keyword, on_delete=models.CASCADE, related_name="qr_codes")
    label = models.CharField(max_length=100, help_text='Where it is printed: "front door", "flyer A".')
    slug = models.CharField(max_length=32, unique=True, default=new_slug, editable=False)
    ref = models.CharField(max_length=8, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["number", "ref"], name="qr_code_unique_ref_per_number")]

    def __str__(self):
        return f"{self.label} ({self.keyword.keyword} {self.ref})"

    @property
    def prefilled_body(self) -> str:
        return f"{self.keyword.keyword} {self.ref}"


class Scan(models.Model):
    class Device(models.TextChoices):
        MOBILE = "mobile"
        TABLET = "tablet"
        DESKTOP = "desktop"
        BOT = "bot"
        OTHER = "other"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="qr_scans")
    qr_code = models.ForeignKey(QRCode, on_delete=models.CASCADE, related_name="scans")
    scanned_at = models.DateTimeField(auto_now_add=True)
    device_type = models.CharField(max_length=10, choices=Device.choices)
    os = models.CharField(max_length=50, blank=True)
    browser = models.CharField(max_length=50, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    referrer = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-scanned_at", "-id"]
        indexes = [models.Index(fields=["qr_code", "scanned_at"])]

    def __str__(self):
        return f"scan of {self.qr_code_id} at {self.scanned_at:%Y-%m-%d %H:%M} ({self.device_type})"


class Click(models.Model):
    """A request for a tracked link. Link-preview fetchers are recorded too, but flagged and not counted."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="clicks")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="clicks")
    message = models.ForeignKey("messaging.Message", on_delete=models.CASCADE, related_name="clicks")
    url = models.URLField(max_length=2000)
    clicked_at = models.DateTimeField(auto_now_add=True)
    is_preview = models.BooleanField(default=False)
    user_agent = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-clicked_at", "-id"]
        indexes = [models.Index(fields=["campaign", "is_preview"])]

    def __str__(self):
        return f"{'preview' if self.is_preview else 'click'} of {self.url} at {self.clicked_at:%Y-%m-%d %H:%M}"
