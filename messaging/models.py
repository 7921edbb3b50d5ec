"""Every message in and out, and the raw provider webhook events, each stored once by the provider's event id.

Every text a business receives or sends is a Message row, so its history exists."""

import logging

from django.db import IntegrityError, InterfaceError, OperationalError, connection, models, transaction

from accounts.models import Business
from subscribers.models import SenderNumber

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate"  # the outcome of an event id already stored: it was handled the first time


def reconnecting(write):
    """Run `write`, and once more on a new connection if the database dropped this one (a restart, a failover, an
    idle timeout) before or during it. Only for writes that are harmless twice: an event is stored once by its id, so
    one whose first try did commit is a duplicate the second time. Inside a caller's transaction (tests) a failed
    statement cannot be run again: no retry. A second failure is raised: the caller answers 503, and the provider
    delivers the event again."""
    try:
        return write()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        logger.info("sms.webhook.reconnected")
        connection.close()
    return write()


class WebhookEventManager(models.Manager):
    def handle_once(self, *, provider: str, event_id: str, event_type: str, payload, handle) -> str:
        """Store a provider's event and act on it in one transaction, once per event id.

        `handle()` answers (outcome, the business concerned or None); an event id seen before is not handled again
        and answers DUPLICATE. An error in `handle()` rolls the stored event back, so the provider's retry applies it.
        A connection the database dropped meanwhile is replaced and the whole of it done once more (`reconnecting`).
        """
        return reconnecting(lambda: self._handle_once(provider, event_id, event_type, payload, handle))

    def _handle_once(self, provider, event_id, event_type, payload, handle) -> str:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    stored = self.create(provider=provider, event_id=event_id, event_type=event_type, payload=payload)
            except IntegrityError:
                return DUPLICATE
            outcome, business = handle()
            stored.outcome, stored.business = outcome[:64], business
            stored.save(update_fields=["outcome", "business"])
        return outcome


class WebhookEvent(models.Model):
    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    # Empty for events that were stored but needed no action (unknown types, numbers no business owns).
    outcome = models.CharField(max_length=64, blank=True)
    # The business the event turned out to concern, once handled (none for unknown numbers and ignored events).
    business = models.ForeignKey(
        "accounts.Business", null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )

    objects = WebhookEventManager()

    class Meta:
        db_table = "sms_webhookevent"  # the name it had in the SMS gateway app, kept when the model moved here
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_unique_provider_id"),
        ]
        indexes = [
            models.Index(fields=["received_at"]),
            models.Index(fields=["id"], condition=models.Q(outcome="pending"), name="webhook_event_pending"),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_type} {self.event_id}"


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
