"""A small fake of the Stripe API, for tests and demos: the real stripe SDK is pointed at it (STRIPE_API_BASE).

It answers what billing uses: customers (create, retrieve), Checkout sessions, customer portal sessions and
subscription lookups, in Stripe's shapes, and records every request with its form-encoded parameters.

    python manage.py run_fake_stripe --port 8766   # then STRIPE_API_BASE=http://127.0.0.1:8766
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from .background import BackgroundServer, JsonHandler


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    params: dict  # the form fields as Stripe's SDK encodes them: "line_items[0][price]" -> "price_..."
    received_at: float = field(default_factory=time.monotonic)


def _id(prefix):
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class FakeStripe:
    """The server's state, shared by the handler threads."""

    api_key: str = "sk_test_fake"
    requests: list[RecordedRequest] = field(default_factory=list)
    customers: dict = field(default_factory=dict)
    subscriptions: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.customers.clear()
            self.subscriptions.clear()

    def requests_to(self, path: str, method: str = "POST") -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def add_customer(self, customer_id=None, **fields) -> dict:
        customer = {"id": customer_id or _id("cus"), "object": "customer", "created": int(time.time()),
                    "email": None, "name": None, "metadata": {}, "livemode": False, **fields}  # fmt: skip
        with self.lock:
            self.customers[customer["id"]] = customer
        return customer

    def add_subscription(self, subscription_id=None, *, customer, price, status="active", period_start=None,
                         period_end=None, metadata=None) -> dict:  # fmt: skip
        """A subscription GET /v1/subscriptions/<id> will answer with (Checkout creates them on the real Stripe)."""
        start = period_start or int(time.time())
        end = period_end or start + 30 * 86400
        subscription = subscription_object(
            subscription_id or _id("sub"), customer=customer, price=price, status=status, period_start=start,
            period_end=end, metadata=metadata or {},
        )  # fmt: skip
        with self.lock:
            self.subscriptions[subscription["id"]] = subscription
        return subscription


def subscription_object(subscription_id, *, customer, price, status, period_start, period_end, metadata=None):
    """A subscription in Stripe's shape (the period on its item, as in current API versions, and on itself)."""
    return {
        "id": subscription_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "current_period_start": period_start,
        "current_period_end": period_end,
        "cancel_at_period_end": False,
        "metadata": metadata or {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": _id("si"),
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price", "recurring": {"interval": "month"}},
                    "quantity": 1,
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                }
            ],
            "has_more": False,
        },
        "livemode": False,
    }


def _error(message, *, param=None, code="resource_missing", kind="invalid_request_error"):
    return {"error": {"type": kind, "code": code, "message": message, "param": param}}


def _make_handler(state: FakeStripe):
    class Handler(JsonHandler):
        def _send(self, status, payload):
            super()._send(status, payload, {"Request-Id": _id("req")})

        def _params(self):
            raw = self._body().decode()
            query = urlsplit(self.path).query
            return dict(parse_qsl(raw or query, keep_blank_values=True))

        def _authorized(self):
            if self.headers.get("Authorization") == f"Bearer {state.api_key}":
                return True
            self._send(401, _error("Invalid API Key provided.", code="api_key_invalid"))
            return False

        def _record(self, params):
            path = urlsplit(self.path).path
            with state.lock:
                state.requests.append(RecordedRequest(self.command, path, dict(self.headers), params))
            return path

        def do_GET(self):
            if self.path == "/_fake/requests":
                with state.lock:
                    data = [{"method": r.method, "path": r.path, "params": r.params} for r in state.requests]
                return self._send(200, {"data": data})
            params = self._params()
            if not self._authorized():
                return None
            path = self._record(params)
            parts = path.strip("/").split("/")
            if len(parts) == 3 and parts[:2] == ["v1", "customers"]:
                customer = state.customers.get(parts[2])
                if customer is None:
                    return self._send(404, _error(f"No such customer: '{parts[2]}'", param="id"))
                return self._send(200, customer)
            if len(parts) == 3 and parts[:2] == ["v1", "subscriptions"]:
                subscription = state.subscriptions.get(parts[2])
                if subscription is None:
                    return self._send(404, _error(f"No such subscription: '{parts[2]}'", param="id"))
                return self._send(200, subscription)
            return self._send(404, _error(f"Unrecognized request URL (GET: {path}).", code=None))

        def do_POST(self):
            params = self._params()
            if self.path == "/_fake/reset":
                state.reset()
                return self._send(200, {"ok": True})
            if not self._authorized():
                return None
            path = self._record(params)
            if path == "/v1/customers":
                metadata = {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}
                customer = state.add_customer(email=params.get("email"), name=params.get("name"), metadata=metadata)
                return self._send(200, customer)
            if path == "/v1/checkout/sessions":
                missing = [k for k in ("success_url", "line_items[0][price]") if not params.get(k)]
                if params.get("mode") != "subscription" or missing:
                    return self._send(400, _error(f"Missing required param: {', '.join(missing) or 'mode'}.",
                                                  code="parameter_missing"))  # fmt: skip
                customer = params.get("customer")
                if customer and customer not in state.customers:
                    return self._send(400, _error(f"No such customer: '{customer}'", param="customer"))
                session_id = _id("cs_test")
                return self._send(200, {
                    "id": session_id, "object": "checkout.session", "mode": "subscription", "status": "open",
                    "customer": customer, "client_reference_id": params.get("client_reference_id"),
                    "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
                    "url": f"https://checkout.stripe.com/c/pay/{session_id}", "livemode": False,
                })  # fmt: skip
            if path == "/v1/billing_portal/sessions":
                customer = params.get("customer")
                if customer not in state.customers:
                    return self._send(400, _error(f"No such customer: '{customer}'", param="customer"))
                session_id = _id("bps")
                return self._send(200, {
                    "id": session_id, "object": "billing_portal.session", "customer": customer,
                    "return_url": params.get("return_url"), "livemode": False,
                    "url": f"https://billing.stripe.com/p/session/{session_id}",
                })  # fmt: skip
            return self._send(404, _error(f"Unrecognized request URL (POST: {path}).", code=None))

    return Handler


class FakeStripeServer(BackgroundServer):
    """Runs the fake on 127.0.0.1 in a background thread: `with FakeStripeServer() as fake: fake.base_url`."""

    name = "fake-stripe"
    path_prefix = ""

    def __init__(self, host="127.0.0.1", port=0, api_key="sk_test_fake"):
        state = FakeStripe(api_key=api_key)
        super().__init__(state, _make_handler(state), host=host, port=port)

    def reset(self):
        self.state.reset()

    def requests_to(self, path, method="POST"):
        return self.state.requests_to(path, method)

    def add_customer(self, customer_id=None, **fields):
        return self.state.add_customer(customer_id, **fields)

    def add_subscription(self, subscription_id=None, **kwargs):
        return self.state.add_subscription(subscription_id, **kwargs)
