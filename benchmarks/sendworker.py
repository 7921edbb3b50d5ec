"""A campaign sending in the background while STOPs arrive (figure 4): what a Celery worker does with the launch's
tasks, messages_send over batches of 100 queued messages, run here in a plain process.

    python -m benchmarks.sendworker CAMPAIGN_ID NOW_ISO MAX_SECONDS

Prints "sending" after its first batch, stops at SIGTERM (after the batch in hand), when the queue is empty or after
MAX_SECONDS, and prints a JSON summary.
"""

import json
import signal
import sys
import time
from datetime import datetime


def main():
    import django

    django.setup()
    from messaging import services
    from messaging.models import Message

    campaign_id, now, max_seconds = int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), float(sys.argv[3])
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    statuses: dict[str, int] = {}
    announced = False
    start = time.perf_counter()
    deadline = start + max_seconds
    while not stop and time.perf_counter() < deadline:
        queued = Message.objects.filter(campaign_id=campaign_id, status=Message.Status.QUEUED).order_by("id")
        ids = list(queued.values_list("pk", flat=True)[: services.BATCH_SIZE])
        if not ids:
            break
        for status, n in services.messages_send(message_ids=ids, now=now).items():
            statuses[status] = statuses.get(status, 0) + n
        if not announced:
            print("sending", flush=True)
            announced = True
    seconds = time.perf_counter() - start
    print(json.dumps({"statuses": statuses, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
