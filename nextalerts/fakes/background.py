"""What every fake provider server shares: an HTTP server on 127.0.0.1 in a background thread, used as a context
manager (`with FakeX() as fake: fake.base_url`), with its recorded state on `.state`."""

import threading
from http.server import ThreadingHTTPServer


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
