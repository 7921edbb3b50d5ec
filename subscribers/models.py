"""Sender numbers, keywords and subscribers.

A Subscriber row is only ever made subscribed by the consumer's own action (consent.services); nothing here offers
a way to set `status` from outside.
"""

from django.db import models
from django.db.models.functions import Lower

from accounts.models import Business


class SenderNumber(models.Model):
    """A Telnyx number that one business sends from and receives keywords on."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="numbers")
    phone_number = models.CharField(max_length=20, unique=True, help_text="E.164, unique across the platform.")
    messaging_profile_id = models.CharField(max_length=64, blank=True)
    messages_per_second = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.phone_number


class Keyword(models.Model):
    """A word a consumer texts to a number to join, with the confirmation they receive."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="keywords")
    number = models.ForeignKey(SenderNumber, on_delete=models.CASCADE, related_name="keywords")
    keyword = models.CharField(max_length=32)
    confirmation_text = models.TextField(blank=True, help_text="Blank: the default confirmation text.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("keyword"), "number", name="keyword_unique_per_number_ci"),
        ]

    def __str__(self):
        return f"{self.keyword} on {self.number_id}"


class Tag(models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["business", "name"], name="tag_unique_per_business")]

    def __str__(self):
        return self.name


class Subscriber(models.Model):
    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed"
        UNSUBSCRIBED = "unsubscribed"
        PENDING = "pending"  # web form filled in, waiting for the consumer's YES

    class Method(models.TextChoices):
        KEYWORD = "keyword"
        QR_CODE = "qr_code"
        WEB_FORM = "web_form"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="subscribers")
    phone_number = models.CharField(max_length=20)
    phone_hash = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    opt_in_method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    opted_in_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # When the web form was filled in; the confirming YES must come within 24 hours of it.
    pending_since = models.DateTimeField(null=True, blank=True)
    # The QR code the consumer scanned to opt in, when they did.
    qr_code = models.ForeignKey(
        "tracking.QRCode", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscribers"
    )
    # The number the consumer texted; replies and campaigns go out from it by default.
    number = models.ForeignKey(SenderNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Where the number is, for quiet hours (campaigns.quiet_hours.profile_for): time zones and local window.
    quiet_profile = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="subscribers")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["business", "phone_number"], name="subscriber_unique_per_business"),
        ]
        indexes = [models.Index(fields=["business", "status"])]

    def __str__(self):
        return f"{self.phone_number} ({self.status})"


class FormHitCounter(models.Model):
    """One fixed-window counter of the sign-up form's limits (subscribers.limits), used when there is no Redis.

    The key names a scope and an address or a phone's keyed hash, never the number itself; a row is deleted once its
    window has passed.
    """

    key = models.CharField(max_length=200, unique=True)
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.hits}"
