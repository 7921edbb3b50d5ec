"""Reading a verified Stripe event into what billing acts on, in one place.

Every field billing reads must have the type Stripe's API gives it, or the event is refused with UnusableEvent,
whose message names the field; a field billing does not read may hold anything (the event is stored as it came).
Refusing the whole event, rather than reading a mistyped field as absent, means a broken event never half-changes a
business's plan, status or billing period.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

# Column widths: WebhookEvent.event_id and event_type, Business.stripe_customer_id and stripe_subscription_id.
EVENT_ID_MAX = 100
EVENT_TYPE_MAX = 64
STRIPE_ID_MAX = 64
# Stripe's timestamps are Unix seconds; outside these years one is not a real date (and date arithmetic on it, such
# as the grace period after a failed payment, could overflow).
TIMESTAMP_MIN = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
TIMESTAMP_MAX = int(datetime(2200, 1, 1, tzinfo=UTC).timestamp())
# A business id in client_reference_id: digits, shorter than the largest primary key.
BUSINESS_ID_DIGITS = 18

NOT_AN_EVENT = 'Not a Stripe event: expected {"id", "type", "data": {"object"}}.'


class UnusableEvent(ValueError):
    """A signed Stripe event that can never be applied as it is; the message says which field is wrong."""


@dataclass(frozen=True)
class CheckoutSession:
    business_id: int | None  # from client_reference_id, which this service sets; None when it is not a business id
    mode: str
    customer: str  # "" when the session has none
    subscription: str
    plan: str  # metadata.plan, which this service sets; "" when absent


@dataclass(frozen=True)
class Subscription:
    id: str
    customer: str
    status: str  # Stripe's, as it came (billing maps the ones it knows)
    price: str  # the first item's price id
    plan: str  # metadata.plan
    period_start: datetime | None
    period_end: datetime | None


@dataclass(frozen=True)
class Invoice:
    customer: str


@dataclass(frozen=True)
class StripeEvent:
    id: str
    type: str
    created: datetime | None
    object: CheckoutSession | Subscription | Invoice | None  # None for a type billing does not act on


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object(node: dict, key: str, where: str) -> dict:
    """An optional nested object: {} when absent or null."""
    value = node.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UnusableEvent(f"{_name(where, key)} must be an object, not {_kind(value)}")
    return value


def _string(node: dict, key: str, where: str, *, required: bool = False, limit: int | None = None) -> str:
    """A string field: "" when absent or null, unless it is required."""
    value = node.get(key)
    if value is None or value == "":
        if required:
            raise UnusableEvent(f"{_name(where, key)} is missing")
        return ""
    if not isinstance(value, str):
        raise UnusableEvent(f"{_name(where, key)} must be a string, not {_kind(value)}")
    if limit is not None and len(value) > limit:
        raise UnusableEvent(f"{_name(where, key)} is too long ({len(value)} > {limit} characters)")
    return value


def _stripe_id(node: dict, key: str, where: str, *, limit: int | None = STRIPE_ID_MAX) -> str:
    """A reference to another Stripe object: its id, or the object itself when Stripe expanded it; "" when none."""
    value = node.get(key)
    if isinstance(value, dict):
        return _string(value, "id", _name(where, key), required=True, limit=limit)
    if value is not None and not isinstance(value, str):
        raise UnusableEvent(f"{_name(where, key)} must be an id or an object with one, not {_kind(value)}")
    return _string(node, key, where, limit=limit)


def _timestamp(node: dict, key: str, where: str) -> datetime | None:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not TIMESTAMP_MIN <= value < TIMESTAMP_MAX:
        shown = str(value)[:30] if isinstance(value, int | float) and not isinstance(value, bool) else _kind(value)
        raise UnusableEvent(f"{_name(where, key)} must be a Unix time in seconds between 2000 and 2200, not {shown}")
    return datetime.fromtimestamp(value, tz=UTC)


def _first_item(subscription: dict, where: str) -> tuple[dict, str]:
    items = _object(subscription, "items", where)
    data = items.get("data")
    if data is None:
        return {}, ""
    if not isinstance(data, list):
        raise UnusableEvent(f"{where}.items.data must be a list, not {_kind(data)}")
    if not data:
        return {}, ""
    if not isinstance(data[0], dict):
        raise UnusableEvent(f"{where}.items.data.0 must be an object, not {_kind(data[0])}")
    return data[0], f"{where}.items.data.0"


def subscription_read(value, where: str = "data.object") -> Subscription:
    """A subscription from an event or from Stripe's API; `where` names it in the error."""
    if not isinstance(value, dict):
        raise UnusableEvent(f"{where} must be an object, not {_kind(value)}")
    item, item_where = _first_item(value, where)
    start, end = _timestamp(value, "current_period_start", where), _timestamp(value, "current_period_end", where)
    if start is None and item:
        # Newer API versions moved the period from the subscription onto its items.
        start, end = (
            _timestamp(item, "current_period_start", item_where),
            _timestamp(item, "current_period_end", item_where),
        )
    return Subscription(
        id=_string(value, "id", where, required=True, limit=STRIPE_ID_MAX),
        customer=_stripe_id(value, "customer", where),
        status=_string(value, "status", where, required=True),
        price=_stripe_id(item, "price", item_where, limit=None) if item else "",  # only compared, never stored
        plan=_string(_object(value, "metadata", where), "plan", f"{where}.metadata"),
        period_start=start,
        period_end=end,
    )


def _checkout_read(value: dict, where: str) -> CheckoutSession:
    reference = _string(value, "client_reference_id", where)
    known = reference.isascii() and reference.isdigit() and len(reference) < BUSINESS_ID_DIGITS
    return CheckoutSession(
        business_id=int(reference) if known else None,
        mode=_string(value, "mode", where) or "subscription",
        customer=_stripe_id(value, "customer", where),
        subscription=_stripe_id(value, "subscription", where),
        plan=_string(_object(value, "metadata", where), "plan", f"{where}.metadata"),
    )


def _invoice_read(value: dict, where: str) -> Invoice:
    return Invoice(customer=_stripe_id(value, "customer", where))


READERS = {
    "checkout.session.completed": _checkout_read,
    "customer.subscription.created": subscription_read,
    "customer.subscription.updated": subscription_read,
    "customer.subscription.deleted": subscription_read,
    "invoice.paid": _invoice_read,
    "invoice.payment_failed": _invoice_read,
}


def stripe_event_read(value) -> StripeEvent:
    """Read a parsed, verified event body. Raises UnusableEvent saying what is wrong with it."""
    data = value.get("data") if isinstance(value, dict) else None
    event_id, event_type = (value.get("id"), value.get("type")) if isinstance(value, dict) else (None, None)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
        or not isinstance(event_id, str)
        or not event_id
        or not isinstance(event_type, str)
        or not event_type
    ):
        raise UnusableEvent(NOT_AN_EVENT)
    for name, text, limit in (("id", event_id, EVENT_ID_MAX), ("type", event_type, EVENT_TYPE_MAX)):
        if len(text) > limit:
            raise UnusableEvent(f"The event's {name} is too long ({len(text)} > {limit} characters).")
    try:
        created = _timestamp(value, "created", "")
        reader = READERS.get(event_type)
        obj = reader(data["object"], "data.object") if reader else None
    except UnusableEvent as exc:
        raise UnusableEvent(f"Event {event_id} cannot be used: {exc}.") from None
    return StripeEvent(id=event_id, type=event_type, created=created, object=obj)
