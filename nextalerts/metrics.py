"""Prometheus metrics: what an operator watches at 3 a.m., defined here and served at GET /metrics.

The send pipeline and the webhooks record them with one call each (`send_outcomes`, `webhook_intake`); what is read
from an app's data at scrape time (queue depth, delivery reports waiting) is collected by that app, which registers
its collector from its AppConfig.ready() with `register_collector`.

With PROMETHEUS_MULTIPROC_DIR set, every process (gunicorn's workers, Celery's) writes its counts to files of its own
in that directory, and a scrape of any web process sums them all. The files are named after the host and a slot that
the process holds while it lives (nextalerts/metricsdir.py), so containers sharing the directory never share a file,
and a process that replaces an ended one (gunicorn recycles its workers) carries on with its files instead of adding
new ones.
"""

import functools
import hmac
import json
import logging
import os
import time
from collections import Counter as Tally

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from nextalerts import metricsdir

logger = logging.getLogger(__name__)


def process_identifier() -> str:
    """This process's files' name in the multiprocess directory: `<host>-<slot>` (metricsdir.identifier)."""
    return metricsdir.identifier(os.environ["PROMETHEUS_MULTIPROC_DIR"])


# Chosen before any metric exists.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Each value's file is named after this, instead of the pid alone.
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)
else:
    # prometheus_client takes the variable's mere presence, empty too, for multiprocess mode, and would then write
    # its files into the working directory while settings (empty: off) serve this process's counts.
    values.ValueClass = values.MutexValue


MESSAGES_SENT = Counter(
    "nextalerts_messages_sent",
    "Outbound messages by the outcome of a send attempt: sent (the provider took it), failed (refused at hand-off), "
    "blocked (consent, or the carrier's STOP), uncertain (the hand-off ended in doubt), deferred (put back: quiet "
    "hours, rate limit, a retryable refusal, a paused payment).",
    ["outcome"],
)
WEBHOOK_EVENTS = Counter(
    "nextalerts_webhook_events",
    "Provider webhook requests by provider, kind (telnyx: inbound, delivery, other; stripe: billing; unknown before "
    "the signature is checked) and outcome (accepted, duplicate, ignored, refused: bad signature, invalid, "
    "unavailable: answered 5xx for a retry, error: an unhandled exception).",
    ["provider", "kind", "outcome"],
)
STOP_RESPONSE = Histogram(
    "nextalerts_stop_response_seconds",
    "From the Telnyx webhook view receiving an opt-out text to its 2xx answer (the suppression is committed by then).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REPLY_LATENCY = Histogram(
    "nextalerts_reply_latency_seconds",
    "From an inbound text being received (its reply recorded in the same transaction) to that reply (opt-out and "
    "opt-in confirmations, HELP answers) being handed to the provider.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
QUEUE_DEPTH = "nextalerts_queue_depth"
DELIVERY_REPORTS_WAITING = "nextalerts_delivery_reports_waiting"


# --- Recording ----------------------------------------------------------------------------------------------------

# The automatic answers to a consumer's own text, whose time to the provider is the reply latency.
REPLY_KINDS = frozenset({"opt_out_confirmation", "help_reply", "opt_in_confirmation"})


def _send_outcome(status: str, error_code: str) -> str | None:
    if status == "sending":
        return "uncertain" if error_code == "unknown" else None  # still in a worker's hands
    if status == "queued":
        return "deferred"
    return status if status in ("sent", "failed", "blocked") else None


def send_outcomes(messages) -> None:
    """Count the outcomes of one send attempt (outbound messages after their outcome is recorded), and observe the
    reply latency of the replies among them that went."""
    tally = Tally()
    for message in messages:
        outcome = _send_outcome(message.status, message.error_code)
        if outcome is not None:
            tally[outcome] += 1
        if outcome == "sent" and message.kind in REPLY_KINDS and message.sent_at and message.created_at:
            REPLY_LATENCY.observe(max(0.0, (message.sent_at - message.created_at).total_seconds()))
    for outcome, count in tally.items():
        MESSAGES_SENT.labels(outcome=outcome).inc(count)


def _answer(response) -> dict:
    """The JSON object a webhook answered, or {}."""
    if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith("application/json"):
        return {}
    try:
        answer = json.loads(response.content)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _telnyx_kind(request, response, said) -> str:
    if response.status_code == 202:
        return "delivery"  # stored for the batch that applies delivery reports
    if said == "ignored":
        return "other"
    if said == "duplicate":  # a redelivered event id: its type is in the (verified) body
        try:
            event_type = json.loads(request.body)["data"]["event_type"]
        except (ValueError, KeyError, TypeError):
            return "unknown"
        if event_type == "message.received":
            return "inbound"
        return "delivery" if event_type in ("message.sent", "message.finalized") else "other"
    return "inbound"


_KINDS = {"telnyx": _telnyx_kind, "stripe": lambda request, response, said: "billing"}
_DUPLICATES = {"duplicate", "duplicate-message"}  # an event id seen before; a message id seen before


def _webhook_record(provider: str, request, response, seconds: float) -> None:
    answer = _answer(response)
    status = response.status_code
    if 200 <= status < 300:
        said = answer.get("status")
        outcome = "duplicate" if said in _DUPLICATES else "ignored" if said == "ignored" else "accepted"
        kind = _KINDS[provider](request, response, said)
        if provider == "telnyx" and said == "opt_out":
            STOP_RESPONSE.observe(seconds)
    else:
        error = answer.get("error")
        refused = status in (401, 403) or (isinstance(error, str) and error.startswith("Signature check failed"))
        outcome = "refused" if refused else "invalid" if status < 500 else "unavailable"
        kind = "unknown" if provider == "telnyx" else _KINDS[provider](request, response, None)
    WEBHOOK_EVENTS.labels(provider=provider, kind=kind, outcome=outcome).inc()


def webhook_intake(provider: str):
    """Decorate a provider's webhook view: each request counts in nextalerts_webhook_events by what it answered, and a
    Telnyx opt-out's time to its 2xx is observed."""

    def decorate(view):
        @functools.wraps(view)
        def counted(request, *args, **kwargs):
            started = time.perf_counter()
            try:
                response = view(request, *args, **kwargs)
            except Exception:  # answered 500 by Django (and reported to Sentry): counted, then left to them
                WEBHOOK_EVENTS.labels(provider=provider, kind="unknown", outcome="error").inc()
                raise
            try:
                _webhook_record(provider, request, response, time.perf_counter() - started)
            except Exception:  # a metric never costs the provider its answer
                logger.exception("metrics.record.failed", extra={"provider": provider})
            return response

        return counted

    return decorate


# --- Scrape-time collectors ---------------------------------------------------------------------------------------


def queue_depth(depths: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        QUEUE_DEPTH,
        "Work waiting per lane (bulk: campaigns and scheduled jobs; replies). With Redis: the Celery tasks in the "
        "lane's broker queue (a bulk task carries up to 100 texts); without: the queued texts that are due.",
        labels=["lane"],
    )
    for lane, depth in sorted(depths.items()):
        family.add_metric([lane], depth)
    return family


def delivery_reports_waiting(count: int) -> GaugeMetricFamily:
    return GaugeMetricFamily(
        DELIVERY_REPORTS_WAITING, "Delivery reports stored by the webhook and not applied to their message yet.", count
    )


class _Guarded:
    """An app's collector whose failure (its database or Redis down) leaves its metrics out of the scrape, logged,
    instead of failing the scrape."""

    def __init__(self, collector):
        self.collector = collector

    def collect(self):
        try:
            return list(self.collector.collect())
        except Exception as exc:
            logger.warning(
                "metrics.collect.failed",
                extra={"collector": type(self.collector).__name__, "error": f"{type(exc).__name__}: {exc}"},
            )
            return []


_collectors: list[_Guarded] = []


def register_collector(collector) -> None:
    """Add an object whose `collect()` yields metric families read at scrape time (once per class)."""
    if not any(type(known.collector) is type(collector) for known in _collectors):
        _collectors.append(_Guarded(collector))


class _ThisProcess:
    """The metrics of this process's default registry (single-process mode)."""

    def collect(self):
        return REGISTRY.collect()


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's files in multiprocess mode (else this process's counts), and the
    scrape-time collectors."""
    scraped = CollectorRegistry(auto_describe=False)
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(scraped, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        scraped.register(_ThisProcess())
    for collector in _collectors:
        scraped.register(collector)
    return scraped


def _authorized(request) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), settings.METRICS_TOKEN.encode())


@never_cache
@require_GET
def metrics_view(request):
    """GET /metrics: the Prometheus text format (or OpenMetrics, when the scraper asks for it). 404 while metrics are
    off (METRICS_ENABLED); with METRICS_TOKEN set, 401 unless the request carries `Authorization: Bearer <token>`."""
    if not settings.METRICS_ENABLED:
        raise Http404("metrics are off")
    if settings.METRICS_TOKEN and not _authorized(request):
        response = HttpResponse(
            "Unauthorized: send the metrics token as 'Authorization: Bearer <METRICS_TOKEN>'.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(registry()), content_type=content_type)
