"""POST /webhooks/stripe/: verify the signature with the stripe SDK, store each event once by id, apply it.

Answers: 200 once applied, ignored or already seen; 400 for a request that can never be valid (bad, missing or stale
signature, not a Stripe event, a field billing reads of the wrong type: the error names it), and nothing is stored;
503 while no webhook secret is configured, or when the database dropped the connection twice (it is tried once more
on a new one), so Stripe retries later; an unexpected error rolls back the stored event and answers 500, so
Stripe's retry applies it again.
"""

import logging
import time

import stripe
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from nextalerts import metrics
from nextalerts.payloads import UnusableBody, webhook_json_load
from nextalerts.webhook_events import DUPLICATE

from .billing import billing_event_apply
from .billing_events import EVENT_ID_MAX, UnusableEvent, stripe_event_read
from .models import BillingWebhookEvent

logger = logging.getLogger(__name__)

# Seconds a signed timestamp stays valid: an older one is a replay.
TOLERANCE = 300
# Seconds a signed timestamp may run ahead of our clock. The stripe SDK checks only the past (a timestamp older than
# its tolerance); one from the future is refused here, as a signature made to outlive the replay window.
FUTURE_TOLERANCE = 60


def _signed_at(header: str) -> int | None:
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return None


def _logged_id(event) -> str:
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id[:EVENT_ID_MAX] if isinstance(event_id, str) else ""


def _error(status, message):
    return JsonResponse({"error": message}, status=status)


@metrics.webhook_intake("stripe")
@csrf_exempt
@require_POST
def stripe_webhook(request):
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("billing.webhook.no-secret")
        return _error(503, "Webhook verification is not configured (STRIPE_WEBHOOK_SECRET); retry later.")
    try:
        raw = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "The body is not UTF-8 text.")
    try:
        stripe.WebhookSignature.verify_header(raw, request.headers.get("Stripe-Signature"), secret, TOLERANCE)
    except stripe.SignatureVerificationError as exc:
        logger.warning("billing.webhook.bad-signature", extra={"reason": str(exc)[:200]})
        return _error(400, f"Signature check failed: {exc}")
    signed_at = _signed_at(request.headers.get("Stripe-Signature"))
    if signed_at is not None and signed_at > time.time() + FUTURE_TOLERANCE:
        logger.warning("billing.webhook.future-timestamp", extra={"signed_at": signed_at})
        return _error(400, f"Signature check failed: the timestamp ({signed_at}) is in the future.")
    try:
        event, _ = webhook_json_load(raw)  # NULs and lone surrogates dropped; too deep or not JSON refused
    except UnusableBody as exc:
        return _error(400, str(exc))
    try:
        read = stripe_event_read(event)
    except UnusableEvent as exc:
        logger.warning("billing.webhook.refused", extra={"event_id": _logged_id(event), "reason": str(exc)[:300]})
        return _error(400, str(exc))
    event_id, event_type = read.id, read.type

    try:
        outcome = BillingWebhookEvent.objects.handle_once(
            provider="stripe", event_id=event_id, event_type=event_type, payload=event,
            handle=lambda: billing_event_apply(read),
        )  # fmt: skip
    except (OperationalError, InterfaceError):
        # Lost twice (handle_once reconnects once): nothing was stored, and Stripe retries.
        logger.exception("billing.webhook.database-unavailable", extra={"event_id": event_id})
        response = _error(503, "The database is unavailable, so the event was not recorded; send it again later.")
        response["Retry-After"] = "5"
        return response
    if outcome == DUPLICATE:
        logger.info("billing.webhook.duplicate", extra={"event_id": event_id})
    return JsonResponse({"status": outcome})
