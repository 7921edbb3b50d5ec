"""Provider-neutral shapes that the gateway hands to the apps. Provider payloads never leave messaging/."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str
    from_number: str
    to_number: str
    text: str
    received_at: datetime
    media_urls: list[str] = field(default_factory=list)


# What a delivery report's handler answers for a report that may be for a message whose hand-off has begun but whose
# outcome is not recorded yet: the report stays pending, and a later batch applies it.
REPORT_EARLY = "early"


@dataclass(frozen=True)
class DeliveryReport:
    provider_message_id: str
    # sending, sent, delivered, delivery_unconfirmed, sending_failed or delivery_failed
    status: str
    from_number: str = ""
    to_number: str = ""
    text: str = ""
    error_code: str = ""
    error_detail: str = ""
    parts: int | None = None
    cost: str | None = None  # a decimal string, as the provider reports it
    cost_currency: str = ""
    sent_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True)
class OutboundSms:
    from_number: str
    to_number: str
    text: str
    media_urls: tuple[str, ...] = ()
    messaging_profile_id: str = ""
    # Our own message id: sent as the provider's idempotency key where it has one.
    reference: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class SendError(Exception):
    """The provider refused the message; it did not take it. `code` is the provider's error code."""

    def __init__(self, message, *, code="", retryable=False, retry_after=None):
        super().__init__(message)
        self.code = str(code or "")
        # True only where the provider certainly did not take the message (rate limited, connection refused).
        self.retryable = retryable
        # Seconds the provider asked us to wait (Retry-After), when it said.
        self.retry_after = retry_after


class SendOutcomeUnknown(Exception):
    """The hand-off may or may not have reached the provider (a timeout mid-request): never retried blindly."""


class NumberCheckUnavailable(Exception):
    """The provider could not say whether the platform's account owns a number (down, too slow, refused our key):
    neither yes nor no, so nothing that depends on the answer may go ahead."""
