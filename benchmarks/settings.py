"""Settings for `make bench`: the product's production settings, plus a do-nothing view to compare the webhook with.

Tasks that the measured code queues (the launch's dispatch, STOP confirmations) go to queues of the benchmark's own
(CELERY_DEFAULT_QUEUE and CELERY_REPLY_QUEUE, set by benchmarks.run), which only figure 5's workers read and which
the benchmark deletes: nothing reaches a worker of the product's queues.
"""

from nextalerts.settings.production import *  # noqa: F403
from nextalerts.settings.production import REDIS_URL

ROOT_URLCONF = "benchmarks.urls"

# Queued, never run in-process: without Redis an in-memory broker that nobody reads takes them.
CELERY_TASK_ALWAYS_EAGER = False
if not REDIS_URL:
    CELERY_BROKER_URL = "memory://localhost/"

# The benchmark launches 100,000-recipient campaigns, beyond any plan's monthly quota: it measures the pipeline, not
# the plan (accounts.billing.quotas_enforced).
BILLING_QUOTAS_ENFORCED = False
