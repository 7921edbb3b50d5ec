"""Settings by environment: DJANGO_SETTINGS_MODULE names one of them.

nextalerts.settings.local       development and demos (`make run`, manage.py, the workers): DEBUG on, fixed fake
                                secrets, the demo webhook key and the development tools; no service needed.
nextalerts.settings.test        the test suite (pytest).
nextalerts.settings.production  the Docker image and docker-compose.yml: DEBUG always off, hardened, and it refuses
                                to start without its secrets.
"""
