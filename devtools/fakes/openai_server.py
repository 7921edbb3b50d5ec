"""A small fake of OpenAI's chat completions API, for tests and demos: the real openai SDK is pointed at it.

It answers POST /v1/chat/completions with deterministic campaign drafts made from the prompt, records every request
(so a test can prove what left the service), and can be told to answer with errors or to answer slowly.

    python manage.py run_fake_openai --port 8766
    # then run the app with OPENAI_BASE_URL=http://127.0.0.1:8766/v1 OPENAI_API_KEY=sk-test
"""

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

from .background import BackgroundServer, JsonHandler


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    raw: bytes  # exactly what arrived, for tests that look for leaked data anywhere in it
    body: dict | None
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class ScriptedError:
    status: int
    message: str
    type: str
    times: int | None = 1  # how many requests it answers; None: every one
    retry_after: int | None = None


@dataclass
class FakeOpenAI:
    """The server's state, shared by the handler threads."""

    api_key: str = "sk-test"
    # Seconds to take before answering, to make client timeouts observable.
    latency: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    errors: list[ScriptedError] = field(default_factory=list)
    # Draft texts to answer the next request with, instead of the ones made from the prompt.
    scripted_drafts: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, *, status=429, message="Rate limit reached for requests", type="rate_limit_error", times=1,
             retry_after=None):  # fmt: skip
        with self.lock:
            self.errors.append(ScriptedError(status, message, type, times, retry_after))

    def answer_with(self, drafts: list[str]):
        with self.lock:
            self.scripted_drafts.append(list(drafts))

    def completions(self) -> list[dict]:
        with self.lock:
            return [r.body for r in self.requests if r.path.endswith("/chat/completions") and r.body is not None]

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.errors.clear()
            self.scripted_drafts.clear()
            self.latency = 0.0

    def _take_error(self):
        with self.lock:
            if not self.errors:
                return None
            error = self.errors[0]
            if error.times is not None:
                error.times -= 1
                if error.times <= 0:
                    self.errors.pop(0)
            return error

    def _take_script(self):
        with self.lock:
            return self.scripted_drafts.pop(0) if self.scripted_drafts else None


def _field(prompt: str, name: str) -> str:
    match = re.search(rf"^{name}:[ \t]*(.*)$", prompt, re.MULTILINE)
    return match.group(1).strip() if match else ""


def drafts_for(prompt: str) -> list[str]:
    """Three drafts from the prompt's labelled lines: one plain, one with typographic quotes (which the service
    must replace to stay in GSM-7), one with a tone-dependent opener."""
    name = _field(prompt, "Business name") or "Our shop"
    brief = (_field(prompt, "Brief") or "something special this week").rstrip(".!")
    brief = brief if len(brief) <= 70 else brief[:67].rstrip() + "..."
    opener = "Great news" if "fun" in _field(prompt, "Tone").lower() else "Hello"
    return [
        f"{name}: {brief}! Reply STOP to opt out",
        f"{name} \u2014 {brief}. Don\u2019t miss it! Reply STOP to opt out",
        f"{opener} from {name}: {brief}. See you soon! Reply STOP to opt out",
    ]


def _completion(body: dict, drafts: list[str]) -> dict:
    content = json.dumps({"drafts": drafts})
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 60, "total_tokens": 160},
    }


def _make_handler(state: FakeOpenAI):
    class Handler(JsonHandler):
        def _error(self, status, message, type, headers=None):
            self._send(status, {"error": {"message": message, "type": type, "param": None, "code": None}}, headers)

        def do_GET(self):
            if self.path == "/_fake/requests":
                return self._send(200, {"data": state.completions()})
            return self._error(404, "Not found", "invalid_request_error")

        def do_POST(self):
            raw = self._body()
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = None
            if self.path == "/_fake/reset":
                state.reset()
                return self._send(200, {"ok": True})
            if self.path == "/_fake/fail":
                state.fail(**(body or {}))
                return self._send(200, {"ok": True})
            if not self.path.endswith("/chat/completions"):
                return self._error(404, "Not found", "invalid_request_error")
            with state.lock:
                state.requests.append(RecordedRequest("POST", self.path, dict(self.headers), raw, body))
            if self.headers.get("Authorization") != f"Bearer {state.api_key}":
                return self._error(401, "Incorrect API key provided", "invalid_request_error")
            # Decided on arrival: a slow request still answering after a reset must not take the next test's error.
            error = state._take_error()
            if state.latency:
                time.sleep(state.latency)
            if error is not None:
                headers = {"Retry-After": str(error.retry_after or 1)} if error.status == 429 else {}
                return self._error(error.status, error.message, error.type, headers)
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                return self._error(400, "'messages' is required", "invalid_request_error")
            prompt = "\n".join(str(m.get("content", "")) for m in body["messages"] if isinstance(m, dict))
            drafts = state._take_script() or drafts_for(prompt)
            return self._send(200, _completion(body, drafts))

    return Handler


class FakeOpenAIServer(BackgroundServer):
    """Runs the fake on 127.0.0.1 in a background thread: `with FakeOpenAIServer() as fake: fake.base_url`."""

    name = "fake-openai"
    path_prefix = "/v1"

    def __init__(self, host="127.0.0.1", port=0, api_key="sk-test"):
        state = FakeOpenAI(api_key=api_key)
        super().__init__(state, _make_handler(state), host=host, port=port)

    # Conveniences that read through to the state.
    @property
    def requests(self):
        return self.state.requests

    def completions(self):
        return self.state.completions()

    def fail(self, **kwargs):
        self.state.fail(**kwargs)

    def answer_with(self, drafts):
        self.state.answer_with(drafts)

    def reset(self):
        self.state.reset()
