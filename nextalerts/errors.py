"""Error tracking: sentry-sdk with its Django and Celery integrations, switched on by settings when SENTRY_DSN is set.

Subscriber phone numbers never go to Sentry: besides send_default_pii=False (no cookies, users or IP addresses),
every string of what an event says about the code's data (exception messages, stack frames' variables, the request's
body, query string and headers, log breadcrumbs, extra data, and their dictionary keys) has its phone-number-looking
runs replaced before the event leaves the process.
Each event is tagged with the request id or the Celery task id it happened in, as the log lines are.
"""

import re

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from nextalerts.logs import current_request_id, current_task_id

SCRUBBED = "[phone]"
# Eight digits or more, optionally after a + (or its URL encoding), with at most two spaces, dots, dashes, slashes or
# brackets between any two of them: E.164 ("+12025550143"), national ("(202) 555-0143") and grouped international
# ("+44 20 7946 0958") forms. An ISO date ("2026-12-08") is left as it is.
PHONE_LIKE = re.compile(r"(?<!\d)(?!\d{4}-\d{2}-\d{2}(?!\d))(?:\+|%2B|\()?\d(?:(?:[\s.()/-]|%20){0,2}\d){7,}(?!\d)")


# The parts of an event that carry what the code was handling; the rest (times, ids, the SDK, the runtime) is the
# SDK's own, and a timestamp or a span id must reach Sentry as it is.
SCRUBBED_PARTS = ("exception", "threads", "message", "logentry", "request", "extra", "breadcrumbs", "user", "spans")
# Fields inside those parts that are the SDK's own as well.
KEPT_FIELDS = frozenset({"timestamp", "start_timestamp", "trace_id", "span_id", "parent_span_id", "thread.id"})


def scrub(value):
    """`value` with every phone-number-looking run in its strings (and dictionary keys) replaced, recursively."""
    if isinstance(value, str):
        return PHONE_LIKE.sub(SCRUBBED, value)
    if isinstance(value, dict):
        return {
            (scrub(key) if isinstance(key, str) else key): (item if key in KEPT_FIELDS else scrub(item))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value


def before_send(event, hint):
    """Tag the event with its request or task id, then scrub it (sentry-sdk's before_send hook)."""
    tags = event.setdefault("tags", {})
    for name, var in (("request_id", current_request_id), ("task_id", current_task_id)):
        given = var.get()
        if given is not None:
            tags.setdefault(name, given)
    for part in SCRUBBED_PARTS:
        if part in event:
            event[part] = scrub(event[part])
    return event


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # send_default_pii is left unset, which is False (the option itself is deprecated in favour of
        # data_collection, whose defaults follow it): no cookies, logged-in users or IP addresses.
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
        before_send_transaction=before_send,
    )
