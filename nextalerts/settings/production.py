"""Production (the Docker image, docker-compose.yml): DEBUG always off, the hardening `check --deploy` asks for, JSON
logs, and no default for any secret. A missing or weak one stops the process at start with a message naming it."""

from .base import *  # noqa: F403
from .base import MIDDLEWARE, ImproperlyConfigured, env, logging_config

if env.bool("DEBUG", default=False):
    raise ImproperlyConfigured(
        "DEBUG=true is refused by the production settings (nextalerts.settings.production): unset DEBUG, or, for "
        "development, use DJANGO_SETTINGS_MODULE=nextalerts.settings.local."
    )
DEBUG = False

# SMS goes out through Telnyx unless a deployment says otherwise (SMS_BACKEND=console prints them, locmem keeps them).
SMS_BACKEND = env.str("SMS_BACKEND", default="telnyx")

_REQUIRED = ["SECRET_KEY", "PHONE_HASH_KEY", "ALLOWED_HOSTS"]
if SMS_BACKEND == "telnyx":
    _REQUIRED += ["TELNYX_API_KEY", "TELNYX_PUBLIC_KEY"]
_missing = [name for name in _REQUIRED if not env.str(name, default="").strip()]
if _missing:
    raise ImproperlyConfigured(
        f"Set {', '.join(_missing)}: the production settings (nextalerts.settings.production) have no default for "
        "them. See .env.example for what each one is."
    )
SECRET_KEY = env.str("SECRET_KEY")
PHONE_HASH_KEY = env.str("PHONE_HASH_KEY")
for _name, _value in (("SECRET_KEY", SECRET_KEY), ("PHONE_HASH_KEY", PHONE_HASH_KEY)):
    if len(_value) < 32:
        raise ImproperlyConfigured(
            f"{_name} must be a random value of at least 32 characters in production; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# The key from the Telnyx portal, and never the demo one: its private half is published with the project.
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default="")

LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_config(LOG_FORMAT)

# --- Hardening (manage.py check --deploy passes with no warning) ---------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Collected static files (the admin's) served by gunicorn itself, hashed and compressed; needs `collectstatic`, which
# the Docker image runs at build time. Locally, runserver serves them.
MIDDLEWARE = list(MIDDLEWARE)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
