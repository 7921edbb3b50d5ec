"""The test suite (pytest's DJANGO_SETTINGS_MODULE, and the worker and beat processes the integration tests start).

The shared settings as production has them, bcrypt included (tests/accounts proves its 12 rounds, so the hasher is
never swapped here; the factories hash their one password once), plus what the suite needs: fixed test secrets, the
demo webhook key and the development tools. Production's own checks and hardening are proven against
nextalerts.settings.production in processes of their own (tests/test_deploy.py, tests/test_settings.py)."""

import os
import tempfile
from pathlib import Path

from devtools.fakes.signing import TEST_PUBLIC_KEY

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, env

# pytest-django turns DEBUG off for every test anyway; a test that needs a demo server's pages turns it on itself.
DEBUG = False

SECRET_KEY = "test-only-insecure-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
PHONE_HASH_KEY = env.str("PHONE_HASH_KEY", default="test-only-phone-hash-key")
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default=TEST_PUBLIC_KEY)

INSTALLED_APPS = [*INSTALLED_APPS, "devtools"]
PHONE_SIMULATOR_SIGNING = "devtools.fakes.signing"

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that the integration test's Celery worker process can open the test database too.
    # One file per test run, so that runs side by side do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"nextalerts-test-{os.getpid()}.sqlite3")}

# GET /metrics answers without a token here (production turns it on only with one).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)
