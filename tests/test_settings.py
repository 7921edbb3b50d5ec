"""Settings by environment (nextalerts/settings/): production refuses to start without its secrets or with DEBUG on,
and has neither the demo webhook key nor the development tools; the local settings have both; the image leaves the
development code out. Each environment is loaded in a process of its own, as a server would load it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from devtools.fakes.signing import TEST_PUBLIC_KEY
from tests.test_deploy import settings_variables

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = "nextalerts.settings.production"
LOCAL = "nextalerts.settings.local"
REQUIRED = ["SECRET_KEY", "PHONE_HASH_KEY", "ALLOWED_HOSTS", "TELNYX_API_KEY", "TELNYX_PUBLIC_KEY"]

# What a started process reports: a few settings, and whether loading the project (its URLs import every view, the
# phone simulator's among them) imported any development code.
REPORT = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.urls import resolve
resolve("/")
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "TELNYX_PUBLIC_KEY": settings.TELNYX_PUBLIC_KEY,
    "INSTALLED_APPS": settings.INSTALLED_APPS,
    "MIDDLEWARE": settings.MIDDLEWARE,
    "PHONE_SIMULATOR_SIGNING": settings.PHONE_SIMULATOR_SIGNING,
    "SECURE_SSL_REDIRECT": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "LOG_FORMAT": settings.LOG_FORMAT,
    "PASSWORD_HASHERS": settings.PASSWORD_HASHERS,
    "AUTH_PASSWORD_VALIDATORS": settings.AUTH_PASSWORD_VALIDATORS,
    "devtools_imported": sorted(name for name in sys.modules if name.split(".")[0] == "devtools"),
}))
"""


def start(module: str, **environment) -> subprocess.CompletedProcess:
    """`import django; django.setup()` (and REPORT) in a child process with `module` as its settings and only
    `environment` of the settings' variables."""
    env = {k: v for k, v in os.environ.items() if k not in {*settings_variables(), "DJANGO_SETTINGS_MODULE"}}
    env.update({k: v for k, v in environment.items() if v is not None}, DJANGO_SETTINGS_MODULE=module)
    return subprocess.run(
        [sys.executable, "-c", REPORT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def report(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refusal(result: subprocess.CompletedProcess) -> str:
    """The ImproperlyConfigured message the process stopped with."""
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last_line.removeprefix("django.core.exceptions.ImproperlyConfigured: ")


def production(**overrides) -> dict:
    environment = {
        "SECRET_KEY": "a-production-secret-key-of-more-than-32-characters-0123456789",
        "PHONE_HASH_KEY": "a-production-phone-hash-key-of-more-than-32-characters",
        "ALLOWED_HOSTS": "nextalerts.example.com",
        "TELNYX_API_KEY": "KEY_TEST",
        "TELNYX_PUBLIC_KEY": "a-key-from-the-telnyx-portal",
    }
    return {**environment, **overrides}


# --- production ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_to_start_without_each_secret(missing):
    message = refusal(start(PRODUCTION, **production(**{missing: None})))
    assert message.startswith(f"Set {missing}:"), message
    assert PRODUCTION in message


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_refuses_an_empty_secret_as_a_missing_one(missing):
    assert refusal(start(PRODUCTION, **production(**{missing: ""}))).startswith(f"Set {missing}:")


def test_production_names_every_missing_secret_at_once():
    message = refusal(start(PRODUCTION))
    assert message.startswith(f"Set {', '.join(REQUIRED)}:"), message


def test_production_needs_telnyx_keys_only_when_it_sends_through_telnyx():
    environment = production(SMS_BACKEND="console", TELNYX_API_KEY=None, TELNYX_PUBLIC_KEY=None)
    started = report(start(PRODUCTION, **environment))
    assert started["TELNYX_PUBLIC_KEY"] == ""


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_production_refuses_to_start_with_debug_asked_for(value):
    message = refusal(start(PRODUCTION, **production(DEBUG=value)))
    assert "DEBUG=true" in message and LOCAL in message, message


@pytest.mark.parametrize("value", [None, "false"])
def test_production_runs_with_debug_off_and_hardened(value):
    started = report(start(PRODUCTION, **production(DEBUG=value)))
    assert started["DEBUG"] is False
    assert started["SECURE_SSL_REDIRECT"] is True and started["SESSION_COOKIE_SECURE"] is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in started["MIDDLEWARE"]
    assert started["LOG_FORMAT"] == "json"


def test_production_has_no_demo_key_no_development_tools_and_imports_none():
    started = report(start(PRODUCTION, **production(TELNYX_PUBLIC_KEY=None, SMS_BACKEND="locmem")))
    assert started["TELNYX_PUBLIC_KEY"] == ""
    assert "devtools" not in started["INSTALLED_APPS"]
    assert started["PHONE_SIMULATOR_SIGNING"] is None
    assert started["devtools_imported"] == []


def test_the_suite_hashes_passwords_as_production_does():
    """What tests/accounts proves about bcrypt holds for production: the test settings never swap the hasher."""
    started = report(start(PRODUCTION, **production()))
    assert settings.PASSWORD_HASHERS == started["PASSWORD_HASHERS"]
    assert "bcrypt" in started["PASSWORD_HASHERS"][0].lower()
    assert settings.AUTH_PASSWORD_VALIDATORS == started["AUTH_PASSWORD_VALIDATORS"]


# --- local -----------------------------------------------------------------------------------------------------------


def test_local_runs_with_nothing_set_with_debug_the_demo_key_and_the_development_tools():
    started = report(start(LOCAL))
    assert started["DEBUG"] is True
    assert started["TELNYX_PUBLIC_KEY"] == TEST_PUBLIC_KEY
    assert "devtools" in started["INSTALLED_APPS"]
    assert started["PHONE_SIMULATOR_SIGNING"] == "devtools.fakes.signing"
    assert started["SECURE_SSL_REDIRECT"] is False and started["LOG_FORMAT"] == "plain"


def test_local_with_debug_false_says_to_use_the_production_settings():
    """DEBUG=false used to mean production: asked of the local settings, it stops and names the module to use."""
    message = refusal(start(LOCAL, DEBUG="false"))
    assert f"DJANGO_SETTINGS_MODULE={PRODUCTION}" in message, message


def test_the_settings_package_itself_says_which_module_to_name():
    """`nextalerts.settings` was the one settings module; the package has none, and says so instead of starting."""
    message = refusal(start("nextalerts.settings"))
    assert LOCAL in message and PRODUCTION in message, message


# --- the production image ------------------------------------------------------------------------------------------


def test_the_image_leaves_out_the_development_tools_the_tests_and_the_benchmarks():
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {"devtools", "tests", "benchmarks"} <= ignored
    kept = [line for line in ignored if line.startswith("!")]  # an exception would bring a file back in
    assert not [line for line in kept if line[1:].startswith(("devtools", "tests", "benchmarks"))]


def test_the_image_runs_the_production_settings():
    """Every process of the image (compose's services too: tests/test_deploy.py), manage.py's commands included."""
    assert f"ENV DJANGO_SETTINGS_MODULE={PRODUCTION}" in (ROOT / "Dockerfile").read_text()
