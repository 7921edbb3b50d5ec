# syntax=docker/dockerfile:1
# The production image: one image for the web (gunicorn), the Celery worker and Celery beat; docker-compose.yml picks
# the command. Configuration comes only from the environment at run time (see .env.example).

FROM python:3.11-slim

# The production settings for every process of the image (manage.py alone would pick the local ones, which need the
# development tools this image leaves out). gunicorn reads WEB_CONCURRENCY for its number of workers; override it per deployment.
ENV DJANGO_SETTINGS_MODULE=nextalerts.settings.production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=3

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them: the runtime lock only (no test or lint tools),
# each file checked against its hash in the lock. Every package has a wheel for this platform (psycopg ships its own
# libpq), so no compiler or system library is needed.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .

# collectstatic imports the settings, which refuse to load in production without their secrets: give it throwaway ones
# for this step only. They never reach the running container, which gets its own from the environment.
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    PHONE_HASH_KEY=collectstatic-only-not-a-secret-0123456789 \
    ALLOWED_HOSTS=collectstatic.invalid \
    TELNYX_API_KEY=collectstatic-only TELNYX_PUBLIC_KEY=collectstatic-only \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/media && chown app:app /app/media
USER app

EXPOSE 8000

# Timeout: a request (the Telnyx webhook included) should answer in well under 30 s; a worker stuck longer is
# restarted. Heartbeat files in memory (/tmp on the overlay filesystem can stall workers); access log to stdout.
CMD ["gunicorn", "nextalerts.wsgi", \
     "--bind", "0.0.0.0:8000", \
     "--timeout", "30", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-"]
