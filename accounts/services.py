"""Writes for accounts: signup, login throttling, the business profile, the team and invitations, API tokens, and
each person's own account (name, email, password)."""

import hashlib
import logging
import math
import re
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
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


SUPPORT_CONTACT_MAX_LENGTH = 255
SUPPORT_CONTACT_UNUSABLE = (
    "Enter a phone number, email address or web address where customers can reach you, such as "
    "help@yourshop.com or (415) 555-0100."
)
_EMAIL_LIKE = re.compile(r"^[^\s@]+@[^\s@]+\.[a-z]{2,}$", re.I)
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+(?:\s*(?:ext\.?|x)\s*\d{1,6})?$", re.I)
_WEB_LIKE = re.compile(r"^(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[/?#]\S*)?$", re.I)


def support_contact_clean(value: str) -> str:
    """The support contact HELP replies send, trimmed; refused (ValueError with what to enter) unless it is a phone
    number, email address or web address someone could actually use. Empty is allowed: Settings asks again."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > SUPPORT_CONTACT_MAX_LENGTH:
        raise ValueError(f"Keep the support contact to at most {SUPPORT_CONTACT_MAX_LENGTH} characters.")
    phone_digits = len(re.sub(r"\D", "", re.split(r"(?i)ext|x", value)[0]))
    if _EMAIL_LIKE.match(value) or _WEB_LIKE.match(value) or (_PHONE_LIKE.match(value) and phone_digits >= 7):
        return value
    raise ValueError(SUPPORT_CONTACT_UNUSABLE)


def user_signup(
    *, email, password, business_name, confirm_age, accept_terms, support_contact: str = ""
) -> tuple[User, Business]:
    """Create a user and the business they own. Age and terms must be confirmed explicitly; the support contact that
    HELP replies carry is asked for here and may be left for Settings."""
    if confirm_age is not True:
        raise SignupError("confirm_age", "You must confirm that you are 18 or older (send confirm_age: true).")
    if accept_terms is not True:
        raise SignupError("accept_terms", "You must accept the terms of service (send accept_terms: true).")
    try:
        support_contact = support_contact_clean(support_contact)
    except ValueError as exc:
        raise SignupError("support_contact", str(exc)) from exc
    email = User.objects.normalize_email(email).lower()
    _check_new_user(email=email, password=password)
    try:
        with transaction.atomic():
            user = _create_new_user(email=email, password=password)
            business = business_create(name=business_name.strip(), owner=user, support_contact=support_contact)
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


def login_locked_message(*, seconds) -> str:
    """What every log-in door says while the lock holds."""
    minutes = max(1, math.ceil(seconds / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed attempts. Try again in {wait} or reset your password."


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


def login_attempts_left(*, email, ip) -> int:
    """Wrong passwords still allowed for this email from this address before the lock; the same whether or not an
    account has the email, so the count reveals nothing about who has one."""
    left = []
    for scope, limit in _login_scopes(email=email, ip=ip):
        left.append(limit - (cache.get(f"login-failures:{scope}") or 0))
    return max(0, min(left))


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


def rate_limit_count(*, scope: str) -> int:
    """The attempts rate_limit_hit() counted in `scope`'s current window."""
    return cache.get(f"rate:{_digest(scope)}") or 0


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


# --- your own account -------------------------------------------------------------------------------------------------
class AccountError(ValueError):
    """A change to one's own account that cannot go ahead; `field` names the form field to show it next to."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


class EmailLinkError(AccountError):
    """An email-change link that does not work (any more): `status` is the page's HTTP status."""

    def __init__(self, message, status=404):
        super().__init__(message)
        self.status = status


# Wrong current passwords allowed on the account page in a window, so a left-open session cannot be used to guess it.
ACCOUNT_PASSWORD_TRIES = 5
ACCOUNT_PASSWORD_WINDOW = timedelta(minutes=15)
EMAIL_CHANGE_VALID_FOR = timedelta(hours=24)
_EMAIL_CHANGE_SALT = "accounts.email-change"
EMAIL_LINK_GONE = (
    "This link doesn't work any more: it has been used, your email or password has changed since it was sent, "
    "or it is not a link we sent. Ask for a new one in Settings → Your account."
)
EMAIL_LINK_EXPIRED = (
    "This link has expired: links work for {hours} hours. Ask for a new one in Settings → Your account."
)


def _current_password_check(*, user, password, field) -> None:
    scope = f"account-password:{user.pk}"
    if rate_limit_count(scope=scope) >= ACCOUNT_PASSWORD_TRIES:
        minutes = int(ACCOUNT_PASSWORD_WINDOW.total_seconds() // 60)
        raise AccountError(f"Too many wrong passwords. Try again in {minutes} minutes.", field=field)
    if not password:
        raise AccountError("Enter your current password.", field=field)
    if not user.check_password(password):
        rate_limit_hit(scope=scope, limit=ACCOUNT_PASSWORD_TRIES, window=ACCOUNT_PASSWORD_WINDOW)
        raise AccountError("That is not right: enter the password you log in with now.", field=field)


def user_name_change(*, user: User, full_name: str, request=None) -> User:
    full_name = (full_name or "").strip()
    previous = user.full_name
    if full_name == previous:
        return user
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    audit_record(
        action=AuditEvent.Action.NAME_CHANGED,
        request=request,
        actor=user,
        target=f"user:{user.pk}",
        details={"from": previous, "to": full_name},
    )
    return user


def _email_change_state(user: User) -> str:
    # Changes when the email or the password does, so a link stops working after either: single use, in effect.
    return salted_hmac(_EMAIL_CHANGE_SALT, f"{user.pk}|{user.email}|{user.password}").hexdigest()[:32]


def _email_change_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_EMAIL_CHANGE_SALT)


def email_change_link(*, token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("dashboard:account-email-confirm", kwargs={"token": token})


def user_email_change_request(*, user: User, new_email: str, password: str, request=None) -> str:
    """Check the current password and the new address, then email a confirmation link to the new address and a note
    to the old one. Nothing changes until the link is opened (user_email_change_confirm). Returns the link's token."""
    new_email = User.objects.normalize_email((new_email or "").strip()).lower()
    _current_password_check(user=user, password=password, field="password")
    if new_email == user.email.lower():
        raise AccountError("That is already your email address.", field="new_email")
    if User.objects.filter(email__iexact=new_email).exists():
        raise AccountError("Another account already uses this email address.", field="new_email")
    token = _email_change_signer().sign_object(
        {"user": user.pk, "email": new_email, "state": _email_change_state(user)}
    )
    context = {
        "user": user,
        "new_email": new_email,
        "link": email_change_link(token=token),
        "hours": int(EMAIL_CHANGE_VALID_FOR.total_seconds() // 3600),
    }
    try:
        send_mail(
            render_to_string("accounts/email/email_change_confirm_subject.txt", context).strip(),
            render_to_string("accounts/email/email_change_confirm.txt", context),
            None,
            [new_email],
        )
    except Exception as exc:
        logger.exception("accounts.email-change.email-failed", extra={"user": user.pk})
        raise AccountError(
            "We couldn't send an email to that address. Check it, or try again in a few minutes.", field="new_email"
        ) from exc
    try:
        send_mail(
            render_to_string("accounts/email/email_change_notice_subject.txt", context).strip(),
            render_to_string("accounts/email/email_change_notice.txt", context),
            None,
            [user.email],
        )
    except Exception:  # the change still needs the new address's link, so it goes ahead
        logger.exception("accounts.email-change.notice-failed", extra={"user": user.pk})
    audit_record(
        action=AuditEvent.Action.EMAIL_CHANGE_REQUESTED,
        request=request,
        actor=user,
        target=f"user:{user.pk}",
        details={"to": new_email},
    )
    return token


def email_change_read(*, user: User, token: str) -> str:
    """The new address a link from user_email_change_request would set for `user`; EmailLinkError when it cannot."""
    if not token or len(token) > 500:
        raise EmailLinkError(EMAIL_LINK_GONE)
    try:
        data = _email_change_signer().unsign_object(token, max_age=EMAIL_CHANGE_VALID_FOR)
    except signing.SignatureExpired as exc:
        hours = int(EMAIL_CHANGE_VALID_FOR.total_seconds() // 3600)
        raise EmailLinkError(EMAIL_LINK_EXPIRED.format(hours=hours)) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise EmailLinkError(EMAIL_LINK_GONE) from exc
    if (
        not isinstance(data, dict)
        or data.get("user") != user.pk
        or not constant_time_compare(str(data.get("state", "")), _email_change_state(user))
        or not isinstance(data.get("email"), str)
    ):
        raise EmailLinkError(EMAIL_LINK_GONE)
    return data["email"]


def user_email_change_confirm(*, user: User, token: str, request=None) -> User:
    """Make the address a confirmation link carries `user`'s email."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        new_email = email_change_read(user=locked, token=token)
        taken = EmailLinkError(
            f"Another account already uses {new_email} (it started to after the link was sent), so it cannot be yours.",
            status=409,
        )
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            raise taken
        previous = locked.email
        locked.email = new_email
        try:
            with transaction.atomic():
                locked.save(update_fields=["email"])
        except IntegrityError as exc:
            raise taken from exc
        audit_record(
            action=AuditEvent.Action.EMAIL_CHANGED,
            request=request,
            actor=locked,
            target=f"user:{user.pk}",
            details={"from": previous, "to": new_email},
        )
    user.email = new_email
    return user


def user_password_change(*, user: User, current_password: str, new_password: str, request=None) -> int:
    """Set a new password after checking the current one; saving it revokes the user's API tokens in every business
    (User.save). Returns how many tokens were revoked. Other sessions end because the password does: the caller keeps
    its own with update_session_auth_hash()."""
    _current_password_check(user=user, password=current_password, field="current_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise AccountError(" ".join(exc.messages), field="new_password") from exc
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])  # revokes the tokens (User.save)
        revoked = user.api_tokens_revoked or 0
        audit_record(
            action=AuditEvent.Action.PASSWORD_CHANGED,
            request=request,
            actor=user,
            target=f"user:{user.pk}",
            details={"tokens_revoked": revoked},
        )
    return revoked


def password_reset_record(*, user: User, request=None) -> None:
    """After a reset link set a new password (and User.save revoked the tokens): audit-log it, and lift the log-in
    lock, as the lock message promises."""
    login_failures_clear(email=user.email)
    audit_record(
        action=AuditEvent.Action.PASSWORD_RESET,
        request=request,
        actor=user,
        target=f"user:{user.pk}",
        details={"tokens_revoked": user.api_tokens_revoked or 0},
    )


def password_set_by_admin_record(*, user: User, tokens_revoked: int, request) -> None:
    """Staff set or switched off someone's password in the platform admin (User.save revoked the tokens)."""
    audit_record(
        action=AuditEvent.Action.PASSWORD_CHANGED,
        request=request,
        target=f"user:{user.pk}",
        details={"tokens_revoked": tokens_revoked, "by_admin": True},
    )
