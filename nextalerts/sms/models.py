"""Raw provider webhook events, each stored once by the provider's event id."""

from django.db import models


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

    class Meta:
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
