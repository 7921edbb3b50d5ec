"""Log lines carry what they are about: the `extra=` fields of the call, the request id, the Celery task id."""

import io
import json
import logging
import sys
from datetime import UTC, datetime

import pytest
from django.test import Client

from nextalerts.logs import JsonFormatter, PlainFormatter, current_request_id
from tests.helpers import process_running, product_env, wait_for


@pytest.fixture
def captured():
    """The root logger writing JSON lines to a buffer, as production's handler does to stderr."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_a_json_line_carries_every_extra_field(captured):
    logging.getLogger("campaigns.services").warning("sms.send.uncertain", extra={"message_id": 42, "lane": "bulk"})

    [line] = captured()
    assert line["message"] == "sms.send.uncertain"
    assert line["level"] == "WARNING" and line["logger"] == "campaigns.services"
    assert line["message_id"] == 42 and line["lane"] == "bulk"
    assert line["time"].endswith("Z")
    assert "request_id" not in line and "task_id" not in line  # outside any request or task


def test_a_value_json_cannot_hold_is_written_as_text_and_a_traceback_is_kept(captured):
    try:
        raise ValueError("bad number")
    except ValueError:
        logging.getLogger("x").exception("failed", extra={"when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)})

    [line] = captured()
    assert line["when"] == "2026-01-02 03:04:00+00:00"
    assert "ValueError: bad number" in line["exception"]


def test_the_plain_format_puts_the_fields_after_the_message():
    record = logging.LogRecord("campaigns.services", logging.WARNING, "", 0, "sms.send.uncertain", (), None)
    record.message_id = 42
    text = PlainFormatter("%(levelname)s %(name)s %(message)s").format(record)
    assert text == "WARNING campaigns.services sms.send.uncertain message_id=42"


def test_a_request_given_an_id_logs_it_and_sends_it_back(captured, db):
    response = Client().get("/api/v1/nowhere?token=s3cret", HTTP_X_REQUEST_ID="proxy-7f3a.1")

    assert response["X-Request-ID"] == "proxy-7f3a.1"
    [line] = captured()
    assert line["message"] == "Not Found: /api/v1/nowhere" and line["status_code"] == 404
    assert line["request_id"] == "proxy-7f3a.1"
    assert "s3cret" not in json.dumps(line), "the request object (its query string) is not logged"


def test_a_request_without_an_id_or_with_an_unusable_one_gets_a_new_one(captured, db):
    first = Client().get("/api/v1/nowhere")["X-Request-ID"]
    second = Client().get("/api/v1/nowhere", HTTP_X_REQUEST_ID='bad id\twith"quotes')["X-Request-ID"]

    assert len(first) == 32 and len(second) == 32 and first != second
    assert [line["request_id"] for line in captured()] == [first, second]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_task_run_by_a_real_worker_logs_its_task_id_and_the_request_that_queued_it(
    celery_queues, redis_url, fake_telnyx
):
    from messaging import tasks as messaging_tasks

    default_queue, reply_queue = celery_queues
    env = product_env(
        redis_url=redis_url, telnyx_base_url=fake_telnyx.base_url, queues=celery_queues, LOG_FORMAT="json"
    )
    command = [
        sys.executable, "-m", "celery", "-A", "nextalerts", "worker", "--pool=solo", "--concurrency=1",
        "-Q", f"{reply_queue},{default_queue}",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
    ]  # fmt: skip
    with process_running(command, env=env, name="worker") as (process, log):
        queued_by = current_request_id.set("req-queued-the-task")  # as when a view queues it
        try:
            result = messaging_tasks.send_replies.delay([])
        finally:
            current_request_id.reset(queued_by)

        def succeeded():
            for text in log.read_text().splitlines():
                try:
                    line = json.loads(text)
                except ValueError:
                    continue
                if line.get("task_id") == result.id and "succeeded" in line["message"]:
                    return line
            return None

        assert wait_for(succeeded, timeout=20), "the worker wrote no JSON line with the task's id"
        assert succeeded()["request_id"] == "req-queued-the-task", "the task's lines name the request that queued it"
        assert process.poll() is None


def test_a_task_run_eagerly_in_a_request_logs_both_ids(captured, settings):
    from nextalerts.celery import app

    @app.task(name="tests.observability.log_something")
    def log_something():
        logging.getLogger("tests").info("inside.task", extra={"step": 1})

    queued_by = current_request_id.set("req-eager")
    try:
        result = log_something.apply()
    finally:
        current_request_id.reset(queued_by)

    [line] = [line for line in captured() if line["message"] == "inside.task"]
    assert line == {**line, "task_id": result.id, "request_id": "req-eager", "step": 1}
