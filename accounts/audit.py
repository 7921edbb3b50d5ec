"""The security audit log: one call records who did what, when and from where."""

from .models import AuditEvent


def audit_record(*, action: str, request=None, actor=None, business=None, target: str = "", details=None):
    """Record a security-relevant action. `request` supplies the actor, business and client IP where not given."""
    from nextalerts.http import client_ip

    if request is not None:
        user = getattr(request, "user", None)
        if actor is None and user is not None and user.is_authenticated:
            actor = user
        if business is None:
            business = getattr(request, "business", None)
    email = getattr(actor, "email", "") or (details or {}).get("email", "")
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_email=email[:254],
        business=business,
        ip=client_ip(request) if request is not None else None,
        target=target[:120],
        details=details or {},
    )
