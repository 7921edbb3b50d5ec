"""Settings by environment: DJANGO_SETTINGS_MODULE names one of them.

nextalerts.settings.local       development and demos (`make run`, manage.py, the workers): DEBUG on, fixed fake
                                secrets, the demo webhook key and the development tools; no service needed.
nextalerts.settings.test        the test suite (pytest).
nextalerts.settings.production  the Docker image and docker-compose.yml: DEBUG always off, hardened, and it refuses
                                to start without its secrets.
"""

import os

from django.core.exceptions import ImproperlyConfigured

# The package itself holds no settings: naming it (the single module's old name) would start with none of them.
if os.environ.get("DJANGO_SETTINGS_MODULE") == __name__:
    raise ImproperlyConfigured(
        f"DJANGO_SETTINGS_MODULE={__name__} names the settings package: set it to nextalerts.settings.local "
        "(development), nextalerts.settings.production or nextalerts.settings.test."
    )
