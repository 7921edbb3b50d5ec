"""Log lines that say what they are about: every `extra=` field of a logger call, the id of the request or of the
Celery task the line was written in.

Two formats: `JsonFormatter` (one JSON object a line, for production, where logs are collected and searched) and
`PlainFormatter` (the message followed by key=value, for a terminal). Settings choose with LOG_FORMAT.
"""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from celery import signals
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_task_id: ContextVar[str | None] = ContextVar("task_id", default=None)

# What every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# A request id given by a proxy is kept when it is a plain token; anything else is replaced, not logged.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUEST_ID_HEADER = "X-Request-ID"


def extra_fields(record: logging.LogRecord) -> dict:
    # Django's own lines (django.request) pass the request object: the request id stands for it, and its repr would
    # put the query string (tokens in links) into the log.
    fields = {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not isinstance(value, HttpRequest)
    }
    for name, var in (("request_id", current_request_id), ("task_id", current_task_id)):
        value = var.get()
        if value is not None:
            fields.setdefault(name, value)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, then the request/task id and the `extra` fields."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """The human-readable line, followed by the same fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{key}={value}" for key, value in extra_fields(record).items())
        if not fields:
            return text
        head, newline, rest = text.partition("\n")  # a traceback stays below the line it belongs to
        return f"{head} {fields}{newline}{rest}"


class RequestIdMiddleware:
    """Each request gets an id: the X-Request-ID header a proxy set, when it is a plain token, else a new one. Log
    lines written while the request is handled carry it, and the response sends it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        # Not reset on the way out: Django logs the response's status (django.request) after the middleware has
        # returned; the id is cleared when the response is finished.
        current_request_id.set(request.request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


@receiver(request_finished)
def _request_finished(**kwargs):
    current_request_id.set(None)


# A task queued while a request is handled carries the request's id in a message header, so that the worker's lines
# for it can be found from the request's.
REQUEST_ID_TASK_HEADER = "request_id"
_task_tokens: dict[str, tuple] = {}


@signals.before_task_publish.connect
def _task_queued(headers=None, **kwargs):
    given = current_request_id.get()
    if given is not None and headers is not None:
        headers.setdefault(REQUEST_ID_TASK_HEADER, given)


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs):
    given = getattr(task.request, REQUEST_ID_TASK_HEADER, None) if task is not None else None
    if not (isinstance(given, str) and _REQUEST_ID.match(given)):
        given = current_request_id.get()  # a task run eagerly, inside the request that called it, keeps its id
    request_token = current_request_id.set(given)
    _task_tokens[task_id] = (current_task_id.set(task_id), request_token)


@signals.task_postrun.connect
def _task_finished(task_id=None, **kwargs):
    tokens = _task_tokens.pop(task_id, None)
    if tokens is not None:
        task_token, request_token = tokens
        current_task_id.reset(task_token)
        current_request_id.reset(request_token)
