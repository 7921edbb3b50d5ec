"""Log-ins, log-outs and failed log-ins (with the lock, when one holds) go to the security audit log, whichever page
or API made them."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from nextalerts.http import client_ip

from . import services
from .audit import audit_record
from .models import AuditEvent
from .selectors import default_business_for


def _business(request, user):
    # At log-in the request was anonymous, so the middleware chose no business: record the one they land in.
    return getattr(request, "business", None) or default_business_for(user=user)


@receiver(user_logged_in, dispatch_uid="accounts.audit.login")
def _audit_login(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.LOGIN, request=request, actor=user, business=_business(request, user))


@receiver(user_logged_out, dispatch_uid="accounts.audit.logout")
def _audit_logout(sender, request, user, **kwargs):
    if user is None:  # logging out with no session: nobody to name
        return
    audit_record(action=AuditEvent.Action.LOGOUT, request=request, actor=user, business=_business(request, user))


@receiver(user_login_failed, dispatch_uid="accounts.audit.login-failed")
def _audit_login_failed(sender, credentials, request=None, **kwargs):
    # Only the address that was tried: Django masks the password in `credentials`, and it is not copied anyway.
    email = str(credentials.get("email") or credentials.get("username") or "").strip().lower()[:254]
    details = {"email": email}
    # The failure that set the lock, and each attempt refused while it holds, say how long it has left.
    locked_for = services.login_lock_remaining(email=email, ip=client_ip(request) if request is not None else None)
    if locked_for:
        details["locked_for_seconds"] = locked_for
    audit_record(action=AuditEvent.Action.LOGIN_FAILED, request=request, details=details)
