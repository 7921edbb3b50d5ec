"""A fake Sentry: a threaded HTTP server that accepts what sentry-sdk sends (POST /api/<project>/envelope/, gzipped
or not) and keeps each envelope, parsed, for tests to read."""

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_envelope(raw: bytes) -> dict:
    """{"headers": {...}, "items": [(item headers, payload)]}: a JSON payload parsed, any other kept as bytes."""
    header_line, _, rest = raw.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] :]
            rest = rest[1:] if rest.startswith(b"\n") else rest
        else:
            payload, _, rest = rest.partition(b"\n")
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
        items.append((item, payload))
    return {"headers": json.loads(header_line), "items": items}


class FakeSentryServer:
    """`with FakeSentryServer() as sentry:` listens on 127.0.0.1; `sentry.dsn(project)` is a DSN that reaches it."""

    def __init__(self):
        self.envelopes: list[dict] = []  # {"project", "raw" (decompressed bytes), "headers", "items"}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) != 3 or parts[0] != "api" or parts[2] != "envelope":
                    self.send_response(404)
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                envelope = {"project": parts[1], "raw": body, **parse_envelope(body)}
                with server._lock:
                    server.envelopes.append(envelope)
                answer = json.dumps({"id": envelope["headers"].get("event_id")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def dsn(self, project: str = "42") -> str:
        return f"http://public-test-key@127.0.0.1:{self.port}/{project}"

    def events(self) -> list[dict]:
        """The error events received so far (not sessions, transactions or client reports)."""
        with self._lock:
            envelopes = list(self.envelopes)
        return [payload for envelope in envelopes for item, payload in envelope["items"] if item.get("type") == "event"]

    def wait_for_events(self, count: int = 1, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.events()

    def reset(self) -> None:
        with self._lock:
            self.envelopes.clear()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
