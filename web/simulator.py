"""The phone simulator (local demos only): a consumer's text, signed with the demo key, handed to the real Telnyx
webhook view, so it takes exactly the path a text from Telnyx takes.

The demo key's signing lives with the development tools (devtools/fakes/signing.py), which production neither installs
nor ships: it is loaded from PHONE_SIMULATOR_SIGNING, set by the local and test settings only, when a text is sent."""

import importlib
import json
from dataclasses import dataclass
from types import ModuleType

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from messaging.webhooks import telnyx_webhook
from subscribers.models import SenderNumber

DEFAULT_CONSUMER_PHONE = "+12025550123"  # a 555-01xx number: reserved for fiction, never a real consumer


class SimulatorUnavailable(Exception):
    """The webhook would refuse the simulator's signature; the message says what to configure."""


@dataclass(frozen=True)
class SimulatedText:
    status_code: int
    outcome: str  # what the webhook answered: "opt_in", "opt_out", "help", "message", or an error


def _signing() -> ModuleType | None:
    return importlib.import_module(settings.PHONE_SIMULATOR_SIGNING) if settings.PHONE_SIMULATOR_SIGNING else None


def simulator_available() -> bool:
    signing = _signing()
    return signing is not None and settings.TELNYX_PUBLIC_KEY == signing.TEST_PUBLIC_KEY


def simulator_text_in(*, number: SenderNumber, phone: str, text: str) -> SimulatedText:
    """Deliver `text` from `phone` to `number` as a signed `message.received` webhook. Replies are sent by the
    configured SMS backend when the webhook's transaction commits, as they would be for a real text."""
    signing = _signing()
    if signing is None:
        raise SimulatorUnavailable("The simulator needs the development tools: run with nextalerts.settings.local.")
    if not simulator_available():
        raise SimulatorUnavailable(
            "The simulator signs its texts with the demo key, and this server checks texts with another key. "
            "Set TELNYX_PUBLIC_KEY to the demo key (devtools.fakes.signing.TEST_PUBLIC_KEY) to use it."
        )
    body = signing.dumps(signing.message_received(from_number=phone, to_number=number.phone_number, text=text))
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = reverse("webhook-telnyx")
    request.META = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body.encode())),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        **signing.sign(body),
    }
    request._body = body.encode()
    response = telnyx_webhook(request)
    try:
        answer = json.loads(response.content)
    except ValueError:
        answer = {}
    outcome = answer.get("status") or answer.get("error") or ""
    return SimulatedText(status_code=response.status_code, outcome=str(outcome))
