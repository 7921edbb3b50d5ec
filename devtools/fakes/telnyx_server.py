"""A small fake of Telnyx's messaging API, for tests and demos: the real telnyx SDK is pointed at it.

It answers POST /v2/messages like Telnyx does, records every request, and can be told to answer with errors
(40300 "blocked due to STOP", 429 rate limited, 5xx). It also answers the look-up of the account's numbers
(GET /v2/phone_numbers?filter[phone_number]=<digits>): it owns every number unless told which it owns (`own()`,
POST /_fake/numbers {"numbers": [...]}, or `run_fake_telnyx --numbers`). Tests drive it in-process; a Celery worker
in another process reaches it over HTTP, and GET /_fake/messages lets anyone read what it received (GET /_fake/log:
the same, each with the Unix time it arrived, for measuring how long a text took to reach the provider).

    python manage.py run_fake_telnyx --port 8765   # then TELNYX_BASE_URL=http://127.0.0.1:8765/v2
"""

import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .background import BackgroundServer, JsonHandler


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    body: dict
    received_at: float = field(default_factory=time.time)  # Unix time, comparable across processes
    # The id of the message taken, for a send answered 200: what Telnyx's delivery reports for it carry.
    message_id: str = ""


@dataclass
class ScriptedError:
    status: int
    code: str
    title: str
    detail: str = ""
    to: str | None = None  # only for this recipient; None: any
    times: int | None = 1  # how many requests it answers; None: every one
    retry_after: int | None = None  # seconds, sent as Retry-After (429s default to 1)
    path: str = "/v2/messages"  # the endpoint it answers for


@dataclass
class FakeTelnyx:
    """The server's state, shared by the handler threads."""

    api_key: str = "KEY_TEST"
    # Seconds to take before answering a send, to make races observable.
    latency: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    errors: list[ScriptedError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # The account's numbers (E.164 -> Telnyx status) as the look-up answers them; None: it owns every number.
    owned_numbers: dict[str, str] | None = None
    # What reset() restores: the numbers the server was started with.
    initial_numbers: dict[str, str] | None = None

    def fail(
        self, *, status=400, code="40300", title="Blocked due to STOP message", detail="", to=None, times=1,
        retry_after=None, path="/v2/messages",
    ):  # fmt: skip
        """Answer the next matching request(s) to `path` with a Telnyx error."""
        with self.lock:
            self.errors.append(ScriptedError(status, str(code), title, detail or title, to, times, retry_after, path))

    def own(self, *numbers, status="active"):
        """From now on the account owns these numbers (E.164) and no others (besides earlier own() calls)."""
        with self.lock:
            if self.owned_numbers is None:
                self.owned_numbers = {}
            self.owned_numbers.update(dict.fromkeys(numbers, status))

    def set_numbers(self, numbers):
        """The account owns exactly `numbers` (E.164); None: every number."""
        with self.lock:
            self.owned_numbers = None if numbers is None else dict.fromkeys(numbers, "active")

    def lookups(self) -> list[dict]:
        """The query of each number look-up received, e.g. {"filter[phone_number]": "12025550188"}."""
        with self.lock:
            return [r.body for r in self.requests if r.path == "/v2/phone_numbers"]

    def messages(self) -> list[dict]:
        with self.lock:
            return [r.body for r in self.requests if r.path == "/v2/messages" and r.method == "POST"]

    def log(self) -> list[dict]:
        """The messages with the Unix time each arrived."""
        with self.lock:
            sends = [r for r in self.requests if r.path == "/v2/messages" and r.method == "POST"]
            return [{"received_at": r.received_at, "body": r.body} for r in sends]

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.errors.clear()
            self.latency = 0.0
            self.owned_numbers = None if self.initial_numbers is None else dict(self.initial_numbers)

    def _take_error(self, to, path="/v2/messages"):
        with self.lock:
            for error in self.errors:
                if error.path == path and error.to in (None, to):
                    if error.times is not None:
                        error.times -= 1
                        if error.times <= 0:
                            self.errors.remove(error)
                    return error
        return None


def _message_response(body):
    now = datetime.now(UTC).isoformat()
    text = body.get("text") or ""
    return {
        "data": {
            "record_type": "message",
            "direction": "outbound",
            "id": str(uuid.uuid4()),
            "type": "MMS" if body.get("media_urls") else "SMS",
            "messaging_profile_id": body.get("messaging_profile_id") or str(uuid.uuid4()),
            "from": {"phone_number": body.get("from"), "carrier": "Telnyx", "line_type": "Wireless"},
            "to": [{"phone_number": body.get("to"), "status": "queued", "carrier": "FAKE", "line_type": "Wireless"}],
            "text": text,
            "media": [{"url": u} for u in body.get("media_urls") or []],
            "encoding": "GSM-7",
            "parts": max(1, -(-len(text) // 153)) if len(text) > 160 else 1,
            "tags": [],
            "cost": None,
            "received_at": now,
            "sent_at": None,
            "completed_at": None,
            "valid_until": None,
            "webhook_url": body.get("webhook_url"),
            "errors": [],
        }
    }


def _phone_number_record(phone_number, status):
    return {
        "record_type": "phone_number",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-telnyx:{phone_number}")),
        "phone_number": phone_number,
        "status": status,
        "phone_number_type": "local",
        "tags": [],
        "deletion_lock_enabled": False,
        "created_at": "2026-01-01T00:00:00Z",
        "purchased_at": "2026-01-01T00:00:00Z",
        "messaging_profile_id": None,
    }


def _phone_numbers_response(state: FakeTelnyx, query: dict) -> dict:
    """Like Telnyx: filter[phone_number] takes at least three digits and matches the numbers containing them; any
    other character matches nothing."""
    wanted = query.get("filter[phone_number]")
    with state.lock:
        owned = None if state.owned_numbers is None else dict(state.owned_numbers)
    if wanted is None:
        found = sorted((owned or {}).items())
    elif not (wanted.isdigit() and len(wanted) >= 3):
        found = []
    elif owned is None:
        found = [(f"+{wanted}", "active")] if len(wanted) >= 8 else []
    else:
        found = sorted((number, status) for number, status in owned.items() if wanted in number)
    data = [_phone_number_record(number, status) for number, status in found]
    meta = {"page_number": 1, "page_size": max(1, len(data)), "total_pages": 1, "total_results": len(data)}
    return {"data": data, "meta": meta}


def _make_handler(state: FakeTelnyx):
    class Handler(JsonHandler):
        def _read_json(self):
            try:
                return json.loads(self._body() or b"{}")
            except json.JSONDecodeError:
                return None

        def do_GET(self):
            if self.path == "/_fake/messages":
                return self._send(200, {"data": state.messages()})
            if self.path == "/_fake/log":
                return self._send(200, {"data": state.log()})
            path, _, query = self.path.partition("?")
            if path != "/v2/phone_numbers":
                return self._send(404, {"errors": [{"code": "10005", "title": "Resource not found"}]})
            if self.headers.get("Authorization") != f"Bearer {state.api_key}":
                return self._send(401, {"errors": [{"code": "10009", "title": "Authentication failed"}]})
            params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            with state.lock:
                state.requests.append(RecordedRequest("GET", path, dict(self.headers), params))
            error = state._take_error(None, path)
            if state.latency:
                time.sleep(state.latency)
            if error is not None:
                headers = {"Retry-After": str(error.retry_after or 1)} if error.status == 429 else {}
                body = {"errors": [{"code": error.code, "title": error.title, "detail": error.detail}]}
                return self._send(error.status, body, headers)
            return self._send(200, _phone_numbers_response(state, params))

        def do_POST(self):
            body = self._read_json()
            if self.path == "/_fake/reset":
                state.reset()
                return self._send(200, {"ok": True})
            if self.path == "/_fake/fail":
                state.fail(**(body or {}))
                return self._send(200, {"ok": True})
            if self.path == "/_fake/numbers":
                state.set_numbers((body or {}).get("numbers"))
                return self._send(200, {"ok": True})
            if self.path != "/v2/messages":
                return self._send(404, {"errors": [{"code": "10005", "title": "Resource not found"}]})
            if self.headers.get("Authorization") != f"Bearer {state.api_key}":
                return self._send(401, {"errors": [{"code": "10009", "title": "Authentication failed"}]})
            if not isinstance(body, dict):
                return self._send(400, {"errors": [{"code": "10015", "title": "Invalid JSON"}]})
            record = RecordedRequest("POST", self.path, dict(self.headers), body)
            with state.lock:
                state.requests.append(record)
            missing = [f for f in ("to", "from") if not body.get(f)]
            invalid = missing or not (body.get("text") or body.get("media_urls"))
            # Decided on arrival: a slow request still answering after a reset must not take the next test's error.
            error = None if invalid else state._take_error(body.get("to"))
            # Taken on arrival too, like Telnyx: a client that gives up (or dies) while waiting still sent it.
            taken = _message_response(body) if not (invalid or error) else None
            if taken is not None:
                record.message_id = taken["data"]["id"]
            if state.latency:
                time.sleep(state.latency)
            if invalid:
                detail = f"missing: {', '.join(missing) or 'text'}"
                return self._send(422, {"errors": [{"code": "10002", "title": "Invalid parameter", "detail": detail}]})
            if error is not None:
                headers = {"Retry-After": str(error.retry_after or 1)} if error.status == 429 else {}
                return self._send(
                    error.status,
                    {"errors": [{"code": error.code, "title": error.title, "detail": error.detail}]},
                    headers,
                )
            return self._send(200, taken)

    return Handler


class FakeTelnyxServer(BackgroundServer):
    """Runs the fake on 127.0.0.1 in a background thread: `with FakeTelnyxServer() as fake: fake.base_url`."""

    name = "fake-telnyx"
    path_prefix = "/v2"

    def __init__(self, host="127.0.0.1", port=0, api_key="KEY_TEST", numbers=None):
        """`numbers`: the E.164 numbers the account owns; None (the default) owns every number."""
        initial = None if numbers is None else dict.fromkeys(numbers, "active")
        owned = None if initial is None else dict(initial)
        state = FakeTelnyx(api_key=api_key, owned_numbers=owned, initial_numbers=initial)
        super().__init__(state, _make_handler(state), host=host, port=port)

    # Conveniences that read through to the state.
    def messages(self):
        return self.state.messages()

    def fail(self, **kwargs):
        self.state.fail(**kwargs)

    def reset(self):
        self.state.reset()

    def own(self, *numbers, status="active"):
        self.state.own(*numbers, status=status)

    def lookups(self):
        return self.state.lookups()
