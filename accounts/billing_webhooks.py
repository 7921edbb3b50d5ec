"""POST /webhooks/stripe/: verify the signature with the stripe SDK, store each event once by id, apply it.

Answers: 200 once applied, ignored or already seen; 400 for a request that can never be valid (bad, missing or stale
signature, not a Stripe event); 503 while no webhook secret is configured, so Stripe retries later; an unexpected
error rolls back the stored event and answers 500, so Stripe's retry applies it again.
"""

import json
import logging

import stripe
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from nextalerts.sms.models import DUPLICATE, WebhookEvent

from .billing import billing_event_apply

logger = logging.getLogger(__name__)

# Seconds a signed timestamp stays valid: an older one is a replay.
TOLERANCE = 300


def _error(status, message):
    return JsonResponse({"error": message}, status=status)


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
    try:
        event = json.loads(raw)
    except json.JSONDecodeError:
        return _error(400, "The body is not JSON.")
    data = event.get("data") if isinstance(event, dict) else None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("object"), dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        return _error(400, 'Not a Stripe event: expected {"id", "type", "data": {"object"}}.')
    event_id, event_type = event["id"][:100], event["type"][:64]

    outcome = WebhookEvent.objects.handle_once(
        provider="stripe", event_id=event_id, event_type=event_type, payload=event,
        handle=lambda: billing_event_apply(event),
    )  # fmt: skip
    if outcome == DUPLICATE:
        logger.info("billing.webhook.duplicate", extra={"event_id": event_id})
    return JsonResponse({"status": outcome})
