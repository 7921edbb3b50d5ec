"""Provider webhook events stored once by the provider's event id, and acted on in the same transaction.

Each app that takes a provider's webhooks keeps its own table of them (messaging: Telnyx; accounts: Stripe), built
on the abstract model here: the same columns, the same once-only handling.
"""

import logging

from django.db import IntegrityError, InterfaceError, OperationalError, connection, models, transaction

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


class ProviderWebhookEvent(models.Model):
    """A provider's event, as it came. Subclasses add the business relation (with their own related_name) and Meta."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    # Empty for events that were stored but needed no action (unknown types, numbers no business owns).
    outcome = models.CharField(max_length=64, blank=True)

    objects = WebhookEventManager()

    class Meta:
        abstract = True
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.provider} {self.event_type} {self.event_id}"
