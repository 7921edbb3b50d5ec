"""Campaigns: a text to a business's subscribers, written, scheduled and launched. A campaign's audience is frozen
into messaging's Message rows when it launches."""

from django.conf import settings
from django.db import models

from accounts.models import Business
from subscribers.models import SenderNumber, Tag


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        SCHEDULED = "scheduled"  # launches by itself at send_at
        SENDING = "sending"  # audience frozen; messages are going out (some may wait for quiet hours)
        SENT = "sent"  # every message reached a final state
        CANCELLED = "cancelled"
        FAILED = "failed"  # the launch itself could not happen (sender number removed...)

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    body = models.TextField()
    media_urls = models.JSONField(default=list, blank=True)
    # Audience: subscribers with any of these tags; no tags means every subscriber.
    tags = models.ManyToManyField(Tag, blank=True, related_name="campaigns")
    sender_number = models.ForeignKey(SenderNumber, null=True, on_delete=models.SET_NULL, related_name="campaigns")
    send_at = models.DateTimeField(null=True, blank=True)
    # Each URL in the body becomes a short per-recipient link whose clicks are counted.
    track_links = models.BooleanField(default=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    status_detail = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Counted once, when the audience is frozen: who matched but got no message, and why.
    audience_size = models.PositiveIntegerField(default=0)
    skipped_suppressed = models.PositiveIntegerField(default=0)
    skipped_frequency = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "send_at"])]

    def __str__(self):
        return self.name
