"""The fake Telnyx server in a process of its own, so that it never shares a GIL with the code being measured.

Prints its base URL on one line, then serves until its stdin is closed (the benchmark exiting closes it too).

It answers with Nagle's algorithm off (TCP_NODELAY). As shipped, the fake writes a response's headers and body in
two packets; on a kept-alive connection the second waits for the client's delayed ACK, so every answer takes about
40 ms, and the benchmark would measure that wait instead of the code.
"""

import sys

from devtools.fakes.telnyx_server import FakeTelnyxServer


def main():
    with FakeTelnyxServer(api_key=sys.argv[1] if len(sys.argv) > 1 else "KEY_TEST") as server:
        server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
