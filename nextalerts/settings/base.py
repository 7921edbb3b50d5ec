"""What every environment shares, read from the environment: local.py, test.py and production.py start from here and
add what differs (DEBUG, the secrets and their defaults, the development tools, production's hardening).

Nothing here has a secret: SECRET_KEY, PHONE_HASH_KEY and TELNYX_PUBLIC_KEY are each environment's to set.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from nextalerts import errors, security, workers

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Each environment's module decides; the environment can only ask (local.py, production.py).
DEBUG = False

# The address people reach the service at: QR codes, tracked links, invitation and reset links are built on it.
# `make run` sets it from HOST and PORT.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", urlsplit(PUBLIC_BASE_URL).hostname}
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=sorted(host for host in _LOCAL_HOSTS if host))
# Where the privacy policy and terms tell people to write; the pages flag the placeholder until it is set.
PRIVACY_CONTACT_EMAIL = env.str("PRIVACY_CONTACT_EMAIL", default="")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files for /api/docs/, served as our own static files (no CDN)
    "accounts",
    "subscribers",
    "consent",
    "messaging",
    "campaigns",
    "tracking",
    "privacy",
    "web",
]

MIDDLEWARE = [
    "nextalerts.logs.RequestIdMiddleware",  # first: every later log line of the request carries its id
    "django.middleware.security.SecurityMiddleware",
    "nextalerts.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.BusinessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "nextalerts.urls"
WSGI_APPLICATION = "nextalerts.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.dashboard.navigation",
                "privacy.context_processors.privacy",
            ],
            "builtins": ["nextalerts.templatetags.formats"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# Persistent connections: a new PostgreSQL connection costs milliseconds on every webhook otherwise.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# The only backend: the dashboard, API and admin log-ins all share its lockout (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
# bcrypt (12 rounds, Django's default cost for this hasher) for every new or changed password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.BCryptSHA256PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Dashboard sessions expire after 12 hours without activity (each request renews them).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- AI campaign writing (OpenAI) ------------------------------------------------------------------------------------
# No key: the composer says drafting is not configured, and everything else works.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4o-mini")
# The SDK's endpoint; tests and demos point it at the fake OpenAI server the project ships.
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="") or None
# Seconds to wait for the model's answer before telling the user to try again.
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=20.0)
# Drafting requests a business may make per hour.
AI_DRAFTS_PER_HOUR = env.int("AI_DRAFTS_PER_HOUR", default=30)

# --- Billing (Stripe) -----------------------------------------------------------------------------------------------
# No key: billing is off and every business has the free plan's limits.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# The SDK's API base; tests and demos point it at the fake Stripe server the project ships.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="") or None
# The Stripe price id of each paid plan (the plans themselves are defined in accounts/billing.py).
STRIPE_PRICE_STARTER = env.str("STRIPE_PRICE_STARTER", default="")
STRIPE_PRICE_GROWTH = env.str("STRIPE_PRICE_GROWTH", default="")
# Days a business whose payment failed keeps sending campaigns before they pause (consent replies never pause).
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)

# --- Privacy: how long each kind of data is kept (the privacy policy's periods) --------------------------------------
RETENTION_MESSAGE_DAYS = env.int("RETENTION_MESSAGE_DAYS", default=365)  # message bodies and delivery records
RETENTION_WEBHOOK_DAYS = env.int("RETENTION_WEBHOOK_DAYS", default=90)  # raw webhook events and delivery logs
RETENTION_DELETED_BUSINESS_DAYS = env.int("RETENTION_DELETED_BUSINESS_DAYS", default=30)  # until a deletion purges
# A purged business's pseudonymised consent ledger and suppressions: the limitation period for consent disputes.
RETENTION_CONSENT_EVIDENCE_DAYS = env.int("RETENTION_CONSENT_EVIDENCE_DAYS", default=4 * 365 + 1)
RETENTION_AUDIT_DAYS = env.int("RETENTION_AUDIT_DAYS", default=365)  # the security audit log
RETENTION_ARCHIVE_DAYS = env.int("RETENTION_ARCHIVE_DAYS", default=30)  # a data-request archive's download window
# Data-request archives (exports) are written here, and deleted once the request's download window ends.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# An analytics script (e.g. a self-hosted Plausible) loaded only for visitors who accept analytics cookies; none
# by default, and then the cookie banner offers essential cookies only.
ANALYTICS_SCRIPT_URL = env.str("ANALYTICS_SCRIPT_URL", default="")

# --- Content-Security-Policy and Permissions-Policy (nextalerts/security.py) ------------------------------------------
# No inline script or style anywhere, no plugin, no <base>, forms post only here and to Stripe's pages (the billing
# buttons post to us, and we redirect to Stripe: form-action covers the redirect too), and no site may frame ours.
# The analytics script, when configured, is the one other origin: it loads from there and reports there.
_ANALYTICS = [origin] if (origin := security.origin(ANALYTICS_SCRIPT_URL)) else []
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'", *_ANALYTICS],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", *_ANALYTICS],  # data: for the icons in Swagger UI's stylesheet
    "connect-src": ["'self'", *_ANALYTICS],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
    "frame-ancestors": ["'none'"],
}
# Every browser feature the product does not use, denied to the page and to anything it might embed. (The copy
# buttons write to the clipboard, which needs no permission for a click.)
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media", "fullscreen",
        "geolocation", "gyroscope", "hid", "idle-detection", "magnetometer", "microphone", "midi", "payment",
        "picture-in-picture", "publickey-credentials-get", "screen-wake-lock", "serial", "usb",
        "xr-spatial-tracking",
    )
}  # fmt: skip

# --- Dashboard sessions and email -------------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"
# Password-reset and invitation emails: printed to the console unless an SMTP server is configured.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="NextAlerts <no-reply@nextalerts.local>")

# --- Celery ---------------------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Without Redis the broker is a folder (kombu's filesystem transport): the web process queues tasks there and the
# worker and beat that `make run` starts take them, so the same machinery as production runs with no server.
LOCAL_BROKER_DIR = Path(env.str("LOCAL_BROKER_DIR", default=str(BASE_DIR / "var" / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(LOCAL_BROKER_DIR / "queue"),
        "data_folder_out": str(LOCAL_BROKER_DIR / "queue"),
        "control_folder": str(LOCAL_BROKER_DIR / "control"),
    }
    for _folder in ("queue", "control"):  # kombu expects them to exist
        (LOCAL_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_RESULT_BACKEND = None
# Tasks go to the broker for a worker, everywhere; the test suite runs them in-process where it does not start one.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# The worker logs through LOGGING above (its formatter, the task id) instead of installing its own handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Consent replies and one-to-one messages have a queue of their own, which workers serve before the default queue
# ("celery": campaigns and scheduled jobs) and which `make worker` gives a worker of its own (nextalerts/workers.py).
REPLY_QUEUE = workers.REPLY_QUEUE
CELERY_TASK_DEFAULT_QUEUE = workers.DEFAULT_QUEUE
CELERY_TASK_ROUTES = {name: {"queue": REPLY_QUEUE} for name in ("messaging.send_replies", "campaigns.send_replies")}
# How often beat looks for due work (scheduled campaigns, quiet hours or Retry-After ended, stored delivery reports).
SCHEDULER_INTERVAL_SECONDS = env.float("SCHEDULER_INTERVAL_SECONDS", default=30.0)
# A claimed message (or a queued task) that made no progress for this long is presumed lost with its worker: the
# dispatcher sends it again if its hand-off never began, and reconciles it against delivery reports if it did.
SEND_STALE_SECONDS = env.float("SEND_STALE_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE = {
    "launch-due-campaigns": {"task": "campaigns.launch_due_campaigns", "schedule": SCHEDULER_INTERVAL_SECONDS},
    # Messages whose quiet hours or Retry-After ended, and any whose task was lost.
    "dispatch-due-messages": {"task": "messaging.dispatch_due_messages", "schedule": SCHEDULER_INTERVAL_SECONDS},
    # Delivery reports are stored by the webhook and applied in batches; this catches any whose task was lost.
    "apply-delivery-reports": {"task": "messaging.apply_delivery_reports", "schedule": SCHEDULER_INTERVAL_SECONDS},
    "expire-uncertain-messages": {"task": "messaging.expire_uncertain_messages", "schedule": 3600.0},
    # The retention periods below, enforced once a day (at 03:30 UTC).
    "enforce-retention": {"task": "privacy.enforce_retention", "schedule": crontab(hour=3, minute=30)},
}

# Shared across processes in production (login throttling, later rate limits); per-process memory locally.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- The hosted sign-up form (/join/<slug>/) --------------------------------------------------------------------------
# SMS-pumping limits. Every submission counts, refused ones too; fixed windows, counted in Redis when REDIS_URL is set
# and in the database otherwise, so every web process shares them. Per business and across every business's form: one
# address or one number cannot reach each business in turn.
WEB_FORM_IP_HOURLY = env.int("WEB_FORM_IP_HOURLY", default=5)
WEB_FORM_IP_HOURLY_ALL_BUSINESSES = env.int("WEB_FORM_IP_HOURLY_ALL_BUSINESSES", default=10)
WEB_FORM_NUMBER_DAILY = env.int("WEB_FORM_NUMBER_DAILY", default=3)
WEB_FORM_NUMBER_DAILY_ALL_BUSINESSES = env.int("WEB_FORM_NUMBER_DAILY_ALL_BUSINESSES", default=5)

# --- SMS --------------------------------------------------------------------------------------------------------------
SMS_BACKENDS = {
    "console": "messaging.backends.console.SmsBackend",
    "locmem": "messaging.backends.locmem.SmsBackend",
    "telnyx": "messaging.backends.telnyx.SmsBackend",
}
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
TELNYX_API_KEY = env.str("TELNYX_API_KEY", default="")
# Base64 ed25519 public key from the Telnyx portal, used to verify webhook signatures; unset, webhooks answer 503.
# Local and test settings default it to the published demo key the phone simulator signs with; production has none.
TELNYX_PUBLIC_KEY = env.str("TELNYX_PUBLIC_KEY", default="")
# The telnyx SDK reads TELNYX_BASE_URL itself; it is repeated here so that the configuration is visible in one place.
TELNYX_BASE_URL = env.str("TELNYX_BASE_URL", default="") or None
TELNYX_TIMEOUT_SECONDS = env.float("TELNYX_TIMEOUT_SECONDS", default=10.0)
TELNYX_WEBHOOK_TOLERANCE_SECONDS = 300
# The module that signs the dashboard phone simulator's texts as Telnyx would (web/simulator.py): the
# development tools' demo key, installed by the local and test settings only. None: the simulator is unavailable.
PHONE_SIMULATOR_SIGNING = None

# --- REST API ---------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsBusinessMember"],
    "DEFAULT_PAGINATION_CLASS": "nextalerts.rest.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "nextalerts.schema.AutoSchema",
    "EXCEPTION_HANDLER": "nextalerts.rest.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("AUTH_THROTTLE_RATE", default="10/min")},
    # How many reverse proxies sit in front of the app: throttling trusts only that many X-Forwarded-For hops,
    # so a client cannot pick its own identity. 0 (the default) ignores the header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_IDLE_HOURS", default=10)),
    # Each use pushes expiry out again (sliding idle timeout), but never past the absolute lifetime.
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=env.int("API_TOKEN_MAX_DAYS", default=30)),
    "TOKEN_LIMIT_PER_USER": None,
    "AUTH_HEADER_PREFIX": "Token",
}
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own migrations create its default token table even when the model is swapped for ours: skip them.
MIGRATION_MODULES = {"knox": None}
SPECTACULAR_SETTINGS = {
    "TITLE": "NextAlerts API",
    "DESCRIPTION": "Numbers, keywords, subscribers, the consent ledger, the do-not-text list, campaigns, messages and "
    "QR codes of one business. "
    "Authenticate with `Authorization: Token <token>` from /api/v1/auth/login/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["nextalerts.rest.schema_drop_duplicate_routes"],
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "MessageStatusEnum": "messaging.models.Message.Status",
        "SubscriberStatusEnum": "subscribers.models.Subscriber.Status",
    },
}

# --- Logging ----------------------------------------------------------------------------------------------------------
# JSON lines in production (every `extra=` field, the request id, the task id), key=value lines locally: the default
# format is each environment's (production.py sets LOG_FORMAT's default to json and calls logging_config again).

# --- Error tracking (Sentry) and metrics (Prometheus) -----------------------------------------------------------------
# Errors of the web processes and the Celery workers go to Sentry when a DSN is set, phone numbers scrubbed first
# (nextalerts/errors.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
# Named after the settings module by default: local, test or production.
SENTRY_ENVIRONMENT = env.str(
    "SENTRY_ENVIRONMENT", default=os.environ.get("DJANGO_SETTINGS_MODULE", "").rpartition(".")[2] or "production"
)
# The share of requests and tasks traced for Sentry's performance pages: none unless asked for.
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured(f"SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1, not {SENTRY_TRACES_SAMPLE_RATE}")
if SENTRY_DSN:
    errors.sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
# GET /metrics (nextalerts/metrics.py). With a token, a scrape must send `Authorization: Bearer <token>`. On by default
# locally (settings/local.py); in production only once a token is set, unless METRICS_ENABLED says otherwise.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=bool(METRICS_TOKEN))
# Where every process (gunicorn's workers, Celery's) writes its counts, for one scrape to sum them; empty: each
# process serves its own. prometheus_client reads the variable itself.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)


def logging_config(log_format: str) -> dict:
    if log_format not in ("plain", "json"):
        raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {
                "()": "nextalerts.logs.PlainFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            },
            "json": {"()": "nextalerts.logs.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "loggers": {"httpx": {"level": "WARNING"}},
    }


LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(LOG_FORMAT)
