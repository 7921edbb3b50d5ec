"""Writes for accounts: signup, login throttling, the business profile, the team and invitations, API tokens."""

import hashlib
import logging
import math
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from .audit import audit_record
from .models import ApiToken, AuditEvent, Business, Invitation, Membership, Role, User

logger = logging.getLogger(__name__)


class SignupError(ValueError):
    """A signup that cannot go ahead; `field` names what the person must fix."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def _unique_slug(name):
    base = slugify(name)[:120] or "business"
    slug, n = base, 1
    while Business.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def business_create(*, name, owner, **fields) -> Business:
    with transaction.atomic():
        business = Business.objects.create(name=name, slug=_unique_slug(name), **fields)
        Membership.objects.create(user=owner, business=business, role=Role.OWNER)
    return business


def user_signup(*, email, password, business_name, confirm_age, accept_terms) -> tuple[User, Business]:
    """Create a user and the business they own. Age and terms must be confirmed explicitly."""
    if confirm_age is not True:
        raise SignupError("confirm_age", "You must confirm that you are 18 or older (send confirm_age: true).")
    if accept_terms is not True:
        raise SignupError("accept_terms", "You must accept the terms of service (send accept_terms: true).")
    email = User.objects.normalize_email(email).lower()
    _check_new_user(email=email, password=password)
    try:
        with transaction.atomic():
            user = _create_new_user(email=email, password=password)
            business = business_create(name=business_name.strip(), owner=user)
    except IntegrityError as exc:  # the same email signed up concurrently
        raise SignupError("email", ACCOUNT_EXISTS) from exc
    return user, business


ACCOUNT_EXISTS = "An account with this email address already exists; log in instead."


def _check_new_user(*, email, password):
    if User.objects.filter(email__iexact=email).exists():
        raise SignupError("email", ACCOUNT_EXISTS)
    try:
        password_validation.validate_password(password, User(email=email))
    except Exception as exc:  # ValidationError with a list of human-readable messages
        raise SignupError("password", " ".join(getattr(exc, "messages", [str(exc)]))) from exc


def _create_new_user(*, email, password) -> User:
    now = timezone.now()
    return User.objects.create_user(email=email, password=password, confirmed_age_at=now, accepted_terms_at=now)


def api_token_create(*, user, business, name="", ttl: timedelta | None = None, request=None) -> tuple[ApiToken, str]:
    """Issue a token for `user` acting for `business`. Returns the row and the secret, which is shown once only.

    `request`, where there is one, gives the audit log the client's address."""
    from knox.settings import knox_settings

    token, secret = ApiToken.objects.create(
        user=user, business=business, name=name, expiry=ttl or knox_settings.TOKEN_TTL
    )
    audit_record(
        action=AuditEvent.Action.TOKEN_CREATED,
        request=request,
        actor=user,
        business=business,
        target=f"token:{token.token_key}",
        details={"name": name, "expiry": token.expiry.isoformat() if token.expiry else None},
    )
    return token, secret


def api_token_revoke(*, token: ApiToken, request=None) -> None:
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.TOKEN_REVOKED,
            request=request,
            business=token.business,
            target=f"token:{token.token_key}",
            details={"name": token.name, "owner": token.user.email if token.user_id else ""},
        )
        token.delete()


# --- log-in throttling ------------------------------------------------------------------------------------------------
# Failed log-ins are counted per email address and per client address in a fixed window; reaching the limit locks
# further attempts (even with the right password) until the lock expires. An office shares one address, so the
# address allows more failures than one email does.
LOGIN_FAILURES_PER_EMAIL = 5
LOGIN_FAILURES_PER_IP = 20
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LOCK = timedelta(minutes=15)


def _digest(value: str) -> str:
    # Cache keys carry a digest, so the cache never holds email addresses.
    return hashlib.sha256(value.encode()).hexdigest()


def _login_scopes(*, email, ip):
    scopes = [(f"email:{_digest((email or '').strip().lower())}", LOGIN_FAILURES_PER_EMAIL)]
    if ip:
        scopes.append((f"ip:{_digest(ip)}", LOGIN_FAILURES_PER_IP))
    return scopes


def login_lock_remaining(*, email, ip) -> int:
    """Seconds until log-in attempts for this email or from this address are allowed again; 0 when not locked."""
    now = time.time()
    remaining = 0.0
    for scope, _limit in _login_scopes(email=email, ip=ip):
        until = cache.get(f"login-lock:{scope}")
        if until:
            remaining = max(remaining, until - now)
    return math.ceil(remaining) if remaining > 0 else 0


def login_failure_record(*, email, ip) -> int:
    """Count a failed log-in; returns the seconds of the lock it caused (0 when attempts are still allowed)."""
    window = int(LOGIN_WINDOW.total_seconds())
    lock = int(LOGIN_LOCK.total_seconds())
    for scope, limit in _login_scopes(email=email, ip=ip):
        key = f"login-failures:{scope}"
        cache.add(key, 0, timeout=window)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            failures = 1
        if failures >= limit:
            cache.set(f"login-lock:{scope}", time.time() + lock, timeout=lock)
            cache.delete(key)
    return login_lock_remaining(email=email, ip=ip)


def login_failures_clear(*, email) -> None:
    """Forget an email's failures and lock: after a successful log-in, or a password reset proves who they are."""
    scope, _limit = _login_scopes(email=email, ip=None)[0]
    cache.delete_many([f"login-failures:{scope}", f"login-lock:{scope}"])


def rate_limit_hit(*, scope: str, limit: int, window: timedelta) -> bool:
    """Count one attempt in `scope`; True once more than `limit` attempts fell in the current window."""
    key = f"rate:{_digest(scope)}"
    cache.add(key, 0, timeout=int(window.total_seconds()))
    try:
        return cache.incr(key) > limit
    except ValueError:
        cache.set(key, 1, timeout=int(window.total_seconds()))
        return False


# --- the business profile ---------------------------------------------------------------------------------------------
BUSINESS_PROFILE_FIELDS = (
    "name", "category", "address", "phone", "support_contact", "terms_url", "privacy_url", "time_zone",
    "marketing_messages_per_day",
)  # fmt: skip


def business_update(*, business: Business, **fields) -> Business:
    """Change the profile fields an owner edits in Settings (validated by the model, as the admin would)."""
    unknown = set(fields) - set(BUSINESS_PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(business, name, value)
    try:
        business.full_clean(exclude=["slug"])
    except ValidationError:
        business.refresh_from_db(fields=list(fields))  # pages showing this object keep the saved values
        raise
    business.save(update_fields=list(fields))
    return business


# --- the team ---------------------------------------------------------------------------------------------------------
class TeamError(ValueError):
    """A team change that cannot go ahead; `field` names the form field to show it next to, when there is one."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


LAST_OWNER = "{business} must keep at least one owner. Make someone else an owner first."


def _owner_ids_locked(business) -> list[int]:
    # Locking the owner rows serialises concurrent demotions, so two owners cannot demote each other at once.
    return list(
        Membership.objects.select_for_update().filter(business=business, role=Role.OWNER).values_list("pk", flat=True)
    )


def membership_change_role(*, membership: Membership, role: str, request=None) -> Membership:
    if role not in Role.values:
        raise TeamError("Choose owner, admin or member.", field="role")
    with transaction.atomic():
        owners = _owner_ids_locked(membership.business)
        if membership.pk in owners and role != Role.OWNER and len(owners) <= 1:
            raise TeamError(LAST_OWNER.format(business=membership.business.name), field="role")
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        if previous != role:
            audit_record(
                action=AuditEvent.Action.ROLE_CHANGED,
                request=request,
                business=membership.business,
                target=f"membership:{membership.pk}",
                details={"member": membership.user.email, "from": previous, "to": role},
            )
    return membership


def membership_remove(*, membership: Membership, request=None) -> None:
    with transaction.atomic():
        owners = _owner_ids_locked(membership.business)
        if membership.pk in owners and len(owners) <= 1:
            raise TeamError(LAST_OWNER.format(business=membership.business.name))
        # Their API tokens for this business would be refused anyway; deleting them says so in the token list too.
        revoked, _ = ApiToken.objects.filter(user_id=membership.user_id, business_id=membership.business_id).delete()
        audit_record(
            action=AuditEvent.Action.MEMBER_REMOVED,
            request=request,
            business=membership.business,
            target=f"membership:{membership.pk}",
            details={"member": membership.user.email, "role": membership.role, "tokens_revoked": revoked},
        )
        membership.delete()


# --- invitations ------------------------------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, business: Business, email: str, role: str, invited_by: User, request=None
) -> tuple[Invitation, str]:
    """Invite `email` to `business` with `role`. Returns the row and the link's token, which is never stored.

    Inviting an address again replaces its pending invitation, so the newest email is the one that works."""
    email = User.objects.normalize_email(email).strip().lower()
    if role not in Role.values:
        raise TeamError("Choose owner, admin or member.", field="role")
    if Membership.objects.filter(business=business, user__email__iexact=email).exists():
        raise TeamError(f"{email} is already in {business.name}.", field="email")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(business=business, email__iexact=email, accepted_at__isnull=True).delete()
        invitation = Invitation.objects.create(
            business=business,
            email=email,
            role=role,
            token_hash=_token_hash(token),
            invited_by=invited_by,
            created_at=now,
            expires_at=now + Invitation.VALID_FOR,
        )
        audit_record(
            action=AuditEvent.Action.MEMBER_INVITED,
            request=request,
            actor=invited_by,
            business=business,
            target=f"invitation:{invitation.pk}",
            details={"invitee": email, "role": role},
        )
    return invitation, token


def invitation_link(*, token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("invitation-accept", kwargs={"token": token})


def invitation_send(*, invitation: Invitation, token: str) -> bool:
    """Email the invitation link. Returns False (and logs) when the mail server refused it."""
    context = {
        "invitation": invitation,
        "business": invitation.business,
        "inviter": invitation.invited_by,
        "role": Role(invitation.role).label,
        "link": invitation_link(token=token),
        "days": Invitation.VALID_FOR.days,
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except Exception:
        logger.exception("accounts.invitation.email-failed", extra={"invitation": invitation.pk})
        return False
    return True


def invitation_cancel(*, invitation: Invitation) -> None:
    invitation.delete()


def _accept(invitation: Invitation, user: User, request=None) -> Membership:
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None or not locked.is_pending:
        raise TeamError("This invitation has been used, cancelled or has expired.")
    membership, created = Membership.objects.get_or_create(
        user=user, business=locked.business, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    if created:
        audit_record(
            action=AuditEvent.Action.MEMBER_JOINED,
            request=request,
            actor=user,
            business=locked.business,
            target=f"membership:{membership.pk}",
            details={"role": membership.role, "invitation": locked.pk},
        )
    return membership


def invitation_accept(*, invitation: Invitation, user: User, request=None) -> Membership:
    """The invited person, logged in, joins. Someone already in the business keeps their role."""
    if user.email.lower() != invitation.email.lower():
        raise TeamError(f"This invitation is for {invitation.email}.")
    with transaction.atomic():
        return _accept(invitation, user, request)


def invitation_accept_new_user(
    *, invitation: Invitation, password: str, confirm_age: bool, accept_terms: bool, request=None
) -> tuple[User, Membership]:
    """Create the invited person's account (the same checks as signup) and join them to the business."""
    if confirm_age is not True:
        raise SignupError("confirm_age", "Please confirm that you are 18 or older.")
    if accept_terms is not True:
        raise SignupError("accept_terms", "Please accept the terms of service.")
    _check_new_user(email=invitation.email, password=password)
    try:
        with transaction.atomic():
            user = _create_new_user(email=invitation.email, password=password)
            membership = _accept(invitation, user, request)
    except IntegrityError as exc:
        raise SignupError("password", ACCOUNT_EXISTS) from exc
    return user, membership
