"""Stripe webhook events for tests and demos, signed the way Stripe signs them.

The Stripe-Signature header is "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' keyed by the endpoint secret>".
"""

import hashlib
import hmac
import json
import secrets
import time

TEST_WEBHOOK_SECRET = "whsec_test_nextalerts"


def dumps(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"))


def signature_header(body: str, *, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def sign(body: str, **kwargs) -> dict:
    """Request headers (Django test client form) carrying the signature of `body`."""
    return {"HTTP_STRIPE_SIGNATURE": signature_header(body, **kwargs)}


def event(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
    """A Stripe event envelope around `obj` (a session, subscription or invoice)."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()) if created is None else created,
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }


def checkout_completed(*, business_id, customer, subscription, plan, **kwargs) -> dict:
    session = {
        "id": f"cs_test_{secrets.token_hex(8)}",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(business_id),
        "customer": customer,
        "subscription": subscription,
        "metadata": {"business_id": str(business_id), "plan": plan},
    }
    return event("checkout.session.completed", session, **kwargs)


def subscription_event(event_type, *, subscription_id, customer, price, status, period_start, period_end, **kwargs):
    from .stripe_server import subscription_object

    obj = subscription_object(
        subscription_id, customer=customer, price=price, status=status, period_start=period_start,
        period_end=period_end,
    )  # fmt: skip
    return event(event_type, obj, **kwargs)


def invoice_event(event_type, *, customer, subscription, **kwargs) -> dict:
    invoice = {
        "id": f"in_{secrets.token_hex(8)}",
        "object": "invoice",
        "customer": customer,
        "subscription": subscription,
        "status": "paid" if event_type == "invoice.paid" else "open",
        "amount_due": 2900,
        "attempt_count": 1,
    }
    return event(event_type, invoice, **kwargs)
