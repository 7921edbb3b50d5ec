"""What every fake provider server shares: an HTTP server on 127.0.0.1 in a background thread, used as a context
manager (`with FakeX() as fake: fake.base_url`), with its recorded state on `.state`."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BackgroundServer:
    name = "fake"  # the thread's name
    path_prefix = ""  # appended to http://host:port for base_url, e.g. "/v2"

    def __init__(self, state, handler_class, host="127.0.0.1", port=0):
        self.state = state
        self.httpd = ThreadingHTTPServer((host, port), handler_class)
        self.httpd.daemon_threads = True
        self.thread = None

    @property
    def base_url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.path_prefix}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=self.name, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet keep-alive handler that answers JSON."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, delayed ACKs add ~40 ms to every kept-alive call.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # quiet
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, payload, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test)
