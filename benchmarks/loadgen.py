"""One load-generating client process: signed Telnyx webhooks over one keep-alive HTTP connection (httpx).

It reads a JSON job on stdin, builds and signs every request first, prints "ready", waits for "go" on stdin, then
posts them one after another until it runs out of requests or time, and prints a JSON result. No Django here: the
client must not share the server's settings or database.

Job: {"url", "kind": "finalized" | "stop", "items": [[id or phone, phone], ...], "to_number",
      "seconds": time bound, "interval": seconds between request starts (0: back to back)}
"""

import json
import sys
import time

import httpx

from devtools.fakes import signing


def _headers(body: str) -> dict:
    signed = signing.sign(body)
    return {
        "Content-Type": "application/json",
        "Telnyx-Signature-Ed25519": signed["HTTP_TELNYX_SIGNATURE_ED25519"],
        "Telnyx-Timestamp": signed["HTTP_TELNYX_TIMESTAMP"],
    }


def build(job: dict) -> list[tuple[str, str, dict]]:
    """(phone, body, headers) for each item, signed now: the run that follows lasts far less than the 5-minute
    tolerance of the timestamp check."""
    requests = []
    for first, phone in job["items"]:
        if job["kind"] == "finalized":
            event = signing.message_finalized(provider_message_id=first, to_number=phone, status="delivered")
        elif job["kind"] == "stop":
            event = signing.message_received(from_number=phone, to_number=job["to_number"], text="STOP")
        else:
            raise ValueError(f"unknown kind {job['kind']!r}")
        body = signing.dumps(event)
        requests.append((phone, body, _headers(body)))
    return requests


def run(job: dict, requests, client: httpx.Client) -> dict:
    url, interval = job["url"], float(job.get("interval") or 0)
    started = time.time()
    deadline = time.perf_counter() + float(job["seconds"])
    ok, statuses, errors, latencies_ms, acks = 0, {}, [], [], []
    next_start = time.perf_counter()
    exhausted = True  # until the deadline or errors end the run first
    for phone, body, headers in requests:
        if interval:
            pause = next_start - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            next_start += interval
        t0 = time.perf_counter()
        if t0 >= deadline:
            exhausted = False
            break
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            if len(errors) > 20:
                exhausted = False
                break
            continue
        latencies_ms.append((time.perf_counter() - t0) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if 200 <= response.status_code < 300:
            ok += 1
            acks.append([phone, time.time()])
        elif len(errors) < 5:
            errors.append(f"{response.status_code}: {response.text[:200]}")
    return {
        "ok": ok,
        "statuses": statuses,
        "errors": errors,
        "started": started,
        "finished": time.time(),
        "latencies_ms": latencies_ms,
        "acks": acks,
        "exhausted": exhausted,
    }


def main():
    job = json.loads(sys.stdin.readline())
    requests = build(job)
    # One connection, kept alive as long as the server allows (gunicorn's sync workers close it after each response).
    with httpx.Client(timeout=30.0) as client:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        result = run(job, requests, client)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
