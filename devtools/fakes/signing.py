"""Signed Telnyx webhooks for tests and demos, with a fixed test ed25519 key (never a production key).

Telnyx signs `"{timestamp}|{body}"` with ed25519 and sends the base64 signature in `telnyx-signature-ed25519` and the
Unix time in `telnyx-timestamp`.
"""

import base64
import json
import time
import uuid
from datetime import UTC, datetime

from nacl.signing import SigningKey

# A fixed seed so that the matching public key can be configured: TELNYX_PUBLIC_KEY=TEST_PUBLIC_KEY.
_TEST_SEED = bytes(range(32))
TEST_SIGNING_KEY = SigningKey(_TEST_SEED)
TEST_PUBLIC_KEY = base64.b64encode(bytes(TEST_SIGNING_KEY.verify_key)).decode()


def sign(body: str, *, timestamp: int | None = None, key: SigningKey = TEST_SIGNING_KEY) -> dict:
    """Headers that make `body` a validly signed Telnyx webhook (as Django test-client extra headers)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = key.sign(f"{timestamp}|{body}".encode()).signature
    return {
        "HTTP_TELNYX_SIGNATURE_ED25519": base64.b64encode(signature).decode(),
        "HTTP_TELNYX_TIMESTAMP": str(timestamp),
    }


def message_received(*, from_number, to_number, text, event_id=None, message_id=None) -> dict:
    """A `message.received` event shaped like Telnyx's."""
    now = datetime.now(UTC).isoformat()
    return {
        "data": {
            "event_type": "message.received",
            "id": event_id or str(uuid.uuid4()),
            "occurred_at": now,
            "record_type": "event",
            "payload": {
                "id": message_id or str(uuid.uuid4()),
                "record_type": "message",
                "direction": "inbound",
                "type": "SMS",
                "from": {"phone_number": from_number, "carrier": "T-Mobile USA", "line_type": "Wireless"},
                "to": [{"phone_number": to_number, "status": "webhook_delivered", "carrier": "Telnyx"}],
                "text": text,
                "media": [],
                "received_at": now,
                "messaging_profile_id": str(uuid.uuid4()),
            },
        },
        "meta": {"attempt": 1, "delivered_to": "https://example.invalid/webhooks/telnyx/"},
    }


def message_finalized(
    *, provider_message_id, to_number, status="delivered", error_code=None, event_id=None, from_number=None, text=None
) -> dict:
    """A `message.finalized` delivery report for an outbound message; with `from_number` and `text` when given, as
    Telnyx's reports carry them."""
    errors = [{"code": error_code, "title": "Blocked due to STOP message"}] if error_code else []
    return {
        "data": {
            "event_type": "message.finalized",
            "id": event_id or str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "record_type": "event",
            "payload": {
                "id": provider_message_id,
                "record_type": "message",
                "direction": "outbound",
                "to": [{"phone_number": to_number, "status": status}],
                "errors": errors,
                **({"from": {"phone_number": from_number}} if from_number else {}),
                **({"text": text} if text is not None else {}),
            },
        },
        "meta": {"attempt": 1},
    }


def dumps(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"))
