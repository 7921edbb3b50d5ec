"""Campaigns, and messages in and out. Every text a business receives or sends is a Message row, so its history
exists; a campaign's audience is frozen into Message rows when it launches."""

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


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"

    class Kind(models.TextChoices):
        INBOUND = "inbound"  # an ordinary text from a consumer: it goes to the inbox
        INBOUND_COMMAND = "inbound_command"  # STOP, HELP, START or a keyword: handled by consent, not for the inbox
        OPT_IN_REQUEST = "opt_in_request"  # "Reply YES to confirm", after the web form
        OPT_IN_CONFIRMATION = "opt_in_confirmation"
        OPT_OUT_CONFIRMATION = "opt_out_confirmation"
        HELP_REPLY = "help_reply"
        CONVERSATION = "conversation"  # a reply to a consumer's own message
        TRANSACTIONAL = "transactional"
        MARKETING = "marketing"

    class Status(models.TextChoices):
        RECEIVED = "received"  # inbound
        QUEUED = "queued"  # waiting for a worker (and, with send_after, for the recipient's quiet hours to end)
        SENDING = "sending"  # being handed over; stays here when the hand-off ended in doubt (reconciled later)
        SENT = "sent"  # the provider took it and returned its id
        DELIVERED = "delivered"
        DELIVERY_UNCONFIRMED = "delivery_unconfirmed"
        SENDING_FAILED = "sending_failed"  # reported by the provider after it took the message
        DELIVERY_FAILED = "delivery_failed"
        FAILED = "failed"  # refused by the provider at hand-off (invalid or landline number...), or never taken
        BLOCKED = "blocked"  # consent refused it (or the carrier did, 40300); never delivered
        CANCELLED = "cancelled"  # its campaign was cancelled before it was handed over

    # The error code of a queued message held because campaigns are paused for an overdue payment (not quiet hours).
    BILLING_PAUSED_CODE = "billing-paused"

    # How far each status is along the way: a report never moves a message back.
    PROGRESS = {
        Status.QUEUED: 0,
        Status.SENDING: 1,
        Status.SENT: 2,
        Status.DELIVERY_UNCONFIRMED: 3,
        Status.DELIVERED: 4,
        Status.SENDING_FAILED: 4,
        Status.DELIVERY_FAILED: 4,
        Status.FAILED: 4,
        Status.BLOCKED: 4,
        Status.CANCELLED: 4,
    }

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    sender_number = models.ForeignKey(SenderNumber, null=True, on_delete=models.SET_NULL, related_name="messages")
    # The consumer's number: the sender of an inbound message, the recipient of an outbound one.
    phone_number = models.CharField(max_length=20)
    phone_hash = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=24, choices=Status.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    # Not before this time: quiet hours, or a provider's Retry-After.
    send_after = models.DateTimeField(null=True, blank=True)
    # When a worker was last asked to send it; the dispatcher re-queues rows whose task was lost.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the hand-off to the provider began, committed before the provider sees the request: a claim whose worker
    # died without it was never handed over and is sent again; one with it may have gone and is never resent blindly.
    handoff_started_at = models.DateTimeField(null=True, blank=True)
    parts = models.PositiveSmallIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    cost_currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
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
            models.Index(fields=["campaign", "status"]),
            # The inbox: a business's ordinary texts, newest first. Partial, so that it never competes with the
            # (business, phone_hash, created_at) index that the fan-out's frequency cap needs for marketing texts.
            models.Index(fields=["business", "created_at"], condition=models.Q(kind="inbound"), name="message_inbox"),
            # The dispatcher's scan: outbound rows still queued.
            models.Index(fields=["send_after"], condition=models.Q(status="queued"), name="message_queued_due"),
        ]

    def __str__(self):
        return f"{self.direction} {self.kind} {self.phone_number} ({self.status})"
