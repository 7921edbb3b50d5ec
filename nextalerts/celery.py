"""The Celery application: broker and settings come from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nextalerts.settings.local")

app = Celery("nextalerts")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import nextalerts.logs  # noqa: E402, F401  (its signals put the task id on the log lines of a task)
