"""manage.py run_fake_stripe: serve the fake Stripe API for demos (see devtools/fakes/stripe_server.py)."""

import time

from django.core.management.base import BaseCommand

from devtools.fakes.stripe_server import FakeStripeServer


class Command(BaseCommand):
    help = "Run a local fake of the Stripe API (customers, Checkout, portal); point STRIPE_API_BASE at it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--api-key", default="sk_test_fake")

    def handle(self, *args, port, api_key, **options):
        with FakeStripeServer(port=port, api_key=api_key) as server:
            self.stdout.write(
                f"Fake Stripe on {server.base_url} (secret key {api_key}); set STRIPE_API_BASE={server.base_url} "
                f"and STRIPE_SECRET_KEY={api_key}. Ctrl-C to stop."
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
