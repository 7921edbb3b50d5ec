"""The one authentication backend every log-in door goes through (the dashboard, the API, the admin): the lock is
checked, failures are counted and a success clears the count here, so no door can skip the lockout."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from nextalerts.http import client_ip

from . import services
from .models import User


class LockoutModelBackend(ModelBackend):
    """Email and password, refused while the lock holds, even when the password is right.

    Raising PermissionDenied makes django.contrib.auth.authenticate() stop at once and report a failed log-in, so a
    locked attempt never reaches the password hasher. The door then asks login_lock_remaining() what to tell them.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get(User.USERNAME_FIELD)
        if email is None or password is None:
            return None
        email = str(email).strip().lower()
        ip = client_ip(request) if request is not None else None
        if services.login_lock_remaining(email=email, ip=ip):
            raise PermissionDenied("Log-ins for this email or from this address are locked for now.")
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            services.login_failure_record(email=email, ip=ip)
            return None
        services.login_failures_clear(email=email)
        return user
