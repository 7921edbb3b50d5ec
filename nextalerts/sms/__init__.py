"""The provider-neutral SMS gateway: backends chosen by SMS_BACKEND, and webhook normalisation."""

from django.conf import settings
from django.utils.module_loading import import_string


def get_backend(name=None):
    """Return an instance of the configured backend ("console", "locmem", "telnyx" or a dotted path)."""
    name = name or settings.SMS_BACKEND
    path = settings.SMS_BACKENDS.get(name, name)
    return import_string(path)()
