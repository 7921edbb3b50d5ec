"""Development and demos: DEBUG on, fixed and clearly fake secrets, the demo webhook key the phone simulator signs
with, and the development tools (the fake providers and their commands). With no variable set the product runs on
SQLite, with SMS and emails printed to the console and a broker in files: one command starts it on a fresh machine."""

from devtools.fakes.signing import TEST_PUBLIC_KEY

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, ImproperlyConfigured, env

DEBUG = env.bool("DEBUG", default=True)
if not DEBUG:
    # DEBUG=false used to be how production was asked for; it now has a module of its own, with its checks.
    raise ImproperlyConfigured(
        "DEBUG=false with the local settings (nextalerts.settings.local): to run in production, set "
        "DJANGO_SETTINGS_MODULE=nextalerts.settings.production (it turns DEBUG off itself and needs its secrets); "
        "for local development, unset DEBUG."
    )

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop")
PHONE_HASH_KEY = env.str("PHONE_HASH_KEY", default="dev-only-phone-hash-key")
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default=TEST_PUBLIC_KEY)

INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
PHONE_SIMULATOR_SIGNING = "devtools.fakes.signing"

# GET /metrics answers without a token here (production turns it on only with one).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
