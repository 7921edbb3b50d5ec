"""Every message in and out: the channel backends (SMS now, chosen by SMS_BACKEND), the send pipeline, provider
webhooks and their delivery reports."""

from django.conf import settings
from django.utils.module_loading import import_string


def get_backend(name=None):
    """Return an instance of the configured backend ("console", "locmem", "telnyx" or a dotted path)."""
    name = name or settings.SMS_BACKEND
    path = settings.SMS_BACKENDS.get(name, name)
    return import_string(path)()
