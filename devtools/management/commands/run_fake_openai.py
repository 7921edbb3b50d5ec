"""manage.py run_fake_openai: serve the fake OpenAI chat API for demos (see devtools/fakes/openai_server.py)."""

import time

from django.core.management.base import BaseCommand

from devtools.fakes.openai_server import FakeOpenAIServer


class Command(BaseCommand):
    help = "Run a local fake of OpenAI's chat completions API; point OPENAI_BASE_URL at it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8766)
        parser.add_argument("--api-key", default="sk-test")

    def handle(self, *args, port, api_key, **options):
        with FakeOpenAIServer(port=port, api_key=api_key) as server:
            self.stdout.write(
                f"Fake OpenAI on {server.base_url}: run the app with OPENAI_BASE_URL={server.base_url} "
                f"OPENAI_API_KEY={api_key}; Ctrl-C to stop."
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
