"""manage.py run_fake_telnyx: serve the fake Telnyx messaging API for demos (see nextalerts/fakes/telnyx_server.py)."""

import time

from django.core.management.base import BaseCommand

from nextalerts.fakes.telnyx_server import FakeTelnyxServer


class Command(BaseCommand):
    help = "Run a local fake of Telnyx's messaging API; point TELNYX_BASE_URL at it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--api-key", default="KEY_TEST")

    def handle(self, *args, port, api_key, **options):
        with FakeTelnyxServer(port=port, api_key=api_key) as server:
            self.stdout.write(f"Fake Telnyx on {server.base_url} (API key {api_key}); Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
