"""manage.py run_fake_telnyx: serve the fake Telnyx messaging API for demos (see devtools/fakes/telnyx_server.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from devtools.fakes.telnyx_server import FakeTelnyxServer
from nextalerts.phones import InvalidPhoneNumber, to_e164


class Command(BaseCommand):
    help = "Run a local fake of Telnyx's messaging API; point TELNYX_BASE_URL at it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--api-key", default="KEY_TEST")
        parser.add_argument(
            "--numbers",
            default=None,
            help="Comma-separated numbers the fake account owns (what registering a sender number checks); "
            "without it the account owns every number.",
        )

    def handle(self, *args, port, api_key, numbers, **options):
        owned = None
        if numbers is not None:
            try:
                owned = [to_e164(n) for n in numbers.split(",") if n.strip()]
            except InvalidPhoneNumber as exc:
                raise CommandError(f"--numbers: {exc}") from exc
        with FakeTelnyxServer(port=port, api_key=api_key, numbers=owned) as server:
            which = "every number" if owned is None else (", ".join(owned) or "no numbers")
            self.stdout.write(f"Fake Telnyx on {server.base_url} (API key {api_key}, owning {which}); Ctrl-C to stop.")
            self.stdout.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
