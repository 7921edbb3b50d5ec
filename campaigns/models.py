"""Messages in and out. Every text a business receives or sends is a row here, so its history exists."""

from django.db import models

from accounts.models import Business
from subscribers.models import SenderNumber


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"

    class Kind(models.TextChoices):
        INBOUND = "inbound"
        OPT_IN_CONFIRMATION = "opt_in_confirmation"
        OPT_OUT_CONFIRMATION = "opt_out_confirmation"
        HELP_REPLY = "help_reply"
        CONVERSATION = "conversation"  # a reply to a consumer's own message
        TRANSACTIONAL = "transactional"
        MARKETING = "marketing"

    class Status(models.TextChoices):
        RECEIVED = "received"  # inbound
        QUEUED = "queued"  # waiting for a worker
        SENT = "sent"  # handed to the provider, which returned its id
        DELIVERED = "delivered"
        FAILED = "failed"  # the provider refused it, or the hand-off ended in doubt and was not repeated
        BLOCKED = "blocked"  # consent policy refused it; never handed to the provider

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    sender_number = models.ForeignKey(SenderNumber, null=True, on_delete=models.SET_NULL, related_name="messages")
    # The consumer's number: the sender of an inbound message, the recipient of an outbound one.
    phone_number = models.CharField(max_length=20)
    phone_hash = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["direction", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="message_unique_provider_id",
            ),
        ]
        indexes = [
            models.Index(fields=["business", "phone_hash", "created_at"]),
            models.Index(fields=["business", "status"]),
        ]

    def __str__(self):
        return f"{self.direction} {self.kind} {self.phone_number} ({self.status})"
