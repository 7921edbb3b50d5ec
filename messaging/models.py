"""Every message in and out, and the raw provider webhook events, each stored once by the provider's event id.

Every text a business receives or sends is a Message row, so its history exists."""

from django.db import models

from accounts.models import Business
from nextalerts.webhook_events import ProviderWebhookEvent
from subscribers.models import SenderNumber


class WebhookEvent(ProviderWebhookEvent):
    """A Telnyx event (an inbound text, a delivery report), stored once by its id."""

    # The business the event turned out to concern, once handled (none for unknown numbers and ignored events).
    business = models.ForeignKey(
        "accounts.Business", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )

    class Meta(ProviderWebhookEvent.Meta):
        db_table = "sms_webhookevent"  # the name it had in the SMS gateway app, kept when the model moved here
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique_provider_id"),
        ]
        indexes = [
            models.Index(fields=["received_at"]),
            models.Index(fields=["id"], condition=models.Q(outcome="pending"), name="webhook_event_pending"),
        ]


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
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
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
        # The table keeps the name it had when messages were part of campaigns: moved without rewriting it.
        db_table = "campaigns_message"
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
