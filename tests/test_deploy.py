"""The deployment files agree with the code: docker-compose.yml runs the five services the product needs, .env.example
documents every variable the settings read, and the production settings pass `check --deploy` and refuse to start
without their secrets."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = sorted((ROOT / "nextalerts" / "settings").glob("*.py"))  # base, local, test, production
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

# env("X"), env.str("X"), env.bool("X", default=...), env.db("X")...; and os.environ / os.getenv, should any appear.
SETTINGS_VARIABLE = re.compile(
    r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|\bos\.(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|\bos\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)
# Commented-out assignments count: they document an optional variable and its default.
ENV_EXAMPLE_ASSIGNMENT = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
REQUIRED_SECRETS = ["SECRET_KEY", "PHONE_HASH_KEY", "TELNYX_API_KEY", "TELNYX_PUBLIC_KEY"]
APP_SERVICES = ["web", "worker", "beat"]


def settings_variables() -> set[str]:
    return {
        name
        for path in SETTINGS
        for match in SETTINGS_VARIABLE.finditer(path.read_text())
        for name in match.groups()
        if name
    }


def env_example_entries() -> dict[str, tuple[str, str]]:
    """Each variable of .env.example: (its value, the line above it)."""
    entries = {}
    previous = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = ENV_EXAMPLE_ASSIGNMENT.match(line.strip())
        if match:
            entries[match.group(1)] = (match.group(2), previous)
        previous = line.strip()
    return entries


@pytest.fixture(scope="module")
def compose() -> dict:
    import yaml  # PyYAML, a locked dependency of drf-spectacular

    return yaml.safe_load(COMPOSE.read_text())


def command_of(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


# --- docker-compose.yml ------------------------------------------------------------------------------------------


def test_compose_defines_the_five_services(compose):
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose["services"])


def test_compose_web_migrates_then_serves_the_wsgi_app_with_gunicorn(compose):
    command = command_of(compose["services"]["web"])
    assert "manage.py migrate" in command
    assert re.search(r"\bgunicorn nextalerts\.wsgi\b", command)
    assert command.index("manage.py migrate") < command.index("gunicorn")


@pytest.mark.parametrize("service, role", [("worker", "worker"), ("beat", "beat")])
def test_compose_worker_and_beat_run_celery_on_the_project_app(compose, service, role):
    command = command_of(compose["services"][service])
    assert re.search(rf"\bcelery -A nextalerts {role}\b", command), command


def test_compose_health_checks_use_readiness_for_the_web_and_a_ping_for_the_worker(compose):
    services = compose["services"]
    web = command_of({"command": services["web"]["healthcheck"]["test"]})
    assert "/readyz" in web and "/healthz" not in web
    worker = command_of({"command": services["worker"]["healthcheck"]["test"]})
    assert "celery -A nextalerts inspect ping" in worker and "celery@$$HOSTNAME" in worker


def test_compose_app_services_wait_for_healthy_postgres_and_redis(compose):
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert "pg_isready" in command_of({"command": services["postgres"]["healthcheck"]["test"]})
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        for dependency in ("postgres", "redis"):
            assert depends_on[dependency]["condition"] == "service_healthy", (name, dependency)


@pytest.mark.parametrize("service", APP_SERVICES)
def test_compose_app_services_run_in_production_mode_against_the_compose_services(compose, service):
    environment = compose["services"][service]["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "nextalerts.settings.production"
    assert "DEBUG" not in environment  # production turns it off itself, and refuses DEBUG=true
    assert environment["SMS_BACKEND"] == "telnyx"
    assert re.match(r"postgres(ql)?://[^@]+@postgres:5432/", environment["DATABASE_URL"])
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    # A secret without a value stops `docker compose up` with a message, instead of starting with an empty one.
    for name in REQUIRED_SECRETS:
        assert re.fullmatch(rf"\$\{{{name}:\?.+\}}", environment[name]), environment[name]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_compose_app_services_share_the_archives_volume(compose, service):
    """The web app writes data-request archives; the worker's retention job deletes them: one volume at MEDIA_ROOT."""
    assert "media:/app/media" in compose["services"][service]["volumes"]
    assert "media" in compose["volumes"]
    assert "mkdir -p /app/media && chown app:app /app/media" in (ROOT / "Dockerfile").read_text()


def test_every_variable_compose_interpolates_is_documented_in_env_example():
    documented = set(env_example_entries())
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    assert interpolated - documented == set()


# --- .env.example ------------------------------------------------------------------------------------------------


def test_settings_variables_are_found_in_the_settings_source():
    # Guards the regex: if it found nothing, the next test would pass vacuously.
    assert {"DEBUG", "SECRET_KEY", "PHONE_HASH_KEY", "DATABASE_URL", "REDIS_URL", "TELNYX_API_KEY"} <= (
        settings_variables()
    )


def test_every_variable_the_settings_read_is_in_env_example():
    missing = settings_variables() - set(env_example_entries())
    assert missing == set(), f"add to .env.example, with a one-line comment: {sorted(missing)}"


def test_every_env_example_variable_has_a_comment_line_above_it():
    uncommented = [name for name, (_value, above) in env_example_entries().items() if not above.startswith("#")]
    assert uncommented == []


def test_env_example_leaves_secrets_empty_so_an_unedited_copy_cannot_start():
    entries = env_example_entries()
    assert {name: entries[name][0] for name in REQUIRED_SECRETS} == dict.fromkeys(REQUIRED_SECRETS, "")


# --- production settings -------------------------------------------------------------------------------------------


def manage(*args, **environment) -> subprocess.CompletedProcess:
    """Run manage.py in a child process whose environment has none of the developer's settings variables (nor the
    suite's settings module: manage.py's default, the local settings, unless `environment` names one)."""
    env = {k: v for k, v in os.environ.items() if k not in {*settings_variables(), "DJANGO_SETTINGS_MODULE"}}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_environment(**overrides) -> dict:
    environment = {
        "DJANGO_SETTINGS_MODULE": "nextalerts.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PHONE_HASH_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "example.com",
        "TELNYX_API_KEY": "KEY_TEST",
        "TELNYX_PUBLIC_KEY": "a-key-from-the-telnyx-portal",
    }
    environment.update(overrides)
    return {k: v for k, v in environment.items() if v is not None}


def test_production_settings_pass_check_deploy_with_no_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_environment())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PHONE_HASH_KEY"])
def test_production_settings_refuse_to_load_without_a_secret(missing):
    result = manage("check", **production_environment(**{missing: None}))
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured"), result.stderr
    assert missing in last_line


@pytest.mark.parametrize("value", ["", "short"])
def test_production_settings_refuse_an_empty_or_short_phone_hash_key(value):
    result = manage("check", **production_environment(PHONE_HASH_KEY=value))
    assert result.returncode != 0
    assert "PHONE_HASH_KEY" in result.stderr


def _setting(name, **environment):
    code = f"from django.conf import settings; print(settings.{name})"
    return manage("shell", "--no-imports", "-c", code, **environment)


def test_locally_webhooks_verify_with_the_demo_key_the_simulator_signs_with():
    from devtools.fakes.signing import TEST_PUBLIC_KEY

    result = _setting("TELNYX_PUBLIC_KEY")  # manage.py's default settings, the local ones, with nothing set
    assert result.stdout.strip() == TEST_PUBLIC_KEY, result.stderr


def test_production_has_no_default_webhook_key():
    result = _setting("TELNYX_PUBLIC_KEY", **production_environment(SMS_BACKEND="console", TELNYX_PUBLIC_KEY=None))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
