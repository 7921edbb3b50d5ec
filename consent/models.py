"""The consent ledger (append-only, hash-chained per business) and the per-business suppression list."""

import hashlib
import json
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from accounts.models import Business


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a ledger row."""


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The consent ledger is append-only: events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The consent ledger is append-only: events cannot be deleted.")

    def _raw_delete(self, using):
        raise AppendOnlyError("The consent ledger is append-only: events cannot be deleted.")

    def delete_expired_evidence(self, *, evidence_days: int, now=None, batch_size: int = 2000) -> int:
        """Delete these events for good: allowed only for a business purged more than `evidence_days` ago, when the
        period in which its consent could be disputed is over. Returns the number of events deleted.

        On PostgreSQL the append-only trigger checks the same condition itself (consent/migrations/0004), once this
        transaction has told it the evidence period; every other delete is still refused there.
        """
        if evidence_days < 1:
            raise ValueError("evidence_days must be at least one day.")
        cutoff = (now or timezone.now()) - timedelta(days=evidence_days)
        if self.exclude(business__status=Business.Status.DELETED, business__purged_at__lt=cutoff).exists():
            raise AppendOnlyError("Only the ledger of a business purged before its evidence period ended can go.")
        deleted = 0
        with transaction.atomic(using=self.db):
            connection = transaction.get_connection(self.db)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('nextalerts.ledger_expiry_days', %s, true)", [str(evidence_days)])
            while ids := list(self.order_by("pk").values_list("pk", flat=True)[:batch_size]):
                deleted += models.QuerySet.delete(self.model.objects.filter(pk__in=ids))[0]
        return deleted


class ConsentEvent(models.Model):
    class Kind(models.TextChoices):
        OPT_IN = "opt_in"
        OPT_OUT = "opt_out"
        HELP = "help"
        CONFIRM = "confirm"  # the YES that completes a double opt-in
        PENDING = "pending"  # a web form was submitted; waiting for the confirming YES

    class Method(models.TextChoices):
        KEYWORD = "keyword"
        QR_CODE = "qr_code"
        WEB_FORM = "web_form"
        CARRIER = "carrier"  # the carrier reported the number blocked us (Telnyx 40300)
        ADMIN = "admin"  # a business or platform admin acted on the number

    GENESIS = "0" * 64

    business = models.ForeignKey(Business, on_delete=models.PROTECT, related_name="consent_events")
    # Blanked when a subscriber's data is erased; phone_hash keeps the chain and the suppression meaningful.
    phone_number = models.CharField(max_length=20, blank=True)
    phone_hash = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    occurred_at = models.DateTimeField()
    # Provider message id, exact inbound text, reply text, form IP/user agent, disclosure shown...
    evidence = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    provider_message_id = models.CharField(max_length=100, blank=True)
    sequence = models.PositiveBigIntegerField()
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["business_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["business", "sequence"], name="consent_event_unique_sequence"),
            # One event of a kind per inbound message: a redelivered or retried message records nothing new.
            models.UniqueConstraint(
                fields=["business", "provider_message_id", "kind"],
                condition=~models.Q(provider_message_id=""),
                name="consent_event_unique_per_message",
            ),
        ]
        indexes = [
            models.Index(fields=["business", "phone_hash", "occurred_at"]),
            # The overview's opt-ins and opt-outs per day, and a campaign's opt-outs: one business's events by time.
            models.Index(fields=["business", "occurred_at"], name="consent_event_business_time"),
        ]

    def __str__(self):
        return f"{self.kind} via {self.method} ({self.business_id}#{self.sequence})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The consent ledger is append-only: events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The consent ledger is append-only: events cannot be deleted.")

    def content(self) -> dict:
        """What the chain hash covers: everything but the raw phone number (erasable) and the hashes themselves."""
        return {
            "business": self.business_id,
            "sequence": self.sequence,
            "phone_hash": self.phone_hash,
            "kind": self.kind,
            "method": self.method,
            "occurred_at": self.occurred_at.isoformat(),
            "evidence": self.evidence,
            "provider_message_id": self.provider_message_id,
        }

    def compute_hash(self) -> str:
        body = json.dumps(self.content(), sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
        return hashlib.sha256(f"{self.prev_hash}|{body}".encode()).hexdigest()


class Suppression(models.Model):
    """A number this business must not text. Keyed by the phone hash so it outlives erasure of the number."""

    class Reason(models.TextChoices):
        STOP = "stop"  # the consumer opted out
        CARRIER = "carrier"  # the carrier blocked delivery because of a STOP (Telnyx 40300)
        MANUAL = "manual"  # the business added the number to its do-not-text list

    CONSUMER_REASONS = (Reason.STOP, Reason.CARRIER)

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="suppressions")
    phone_hash = models.CharField(max_length=64)
    phone_number = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    event = models.ForeignKey(ConsentEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["business", "phone_hash"], name="suppression_unique_per_business"),
        ]
        # The do-not-text list, newest first.
        indexes = [models.Index(fields=["business", "created_at", "id"], name="suppression_business_created")]

    def __str__(self):
        return f"{self.phone_number or self.phone_hash[:12]} ({self.reason})"
