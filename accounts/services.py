"""Writes for accounts: signup, login tokens, memberships."""

from datetime import timedelta

from django.contrib.auth import password_validation
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import ApiToken, Business, Membership, Role, User


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
    if User.objects.filter(email__iexact=email).exists():
        raise SignupError("email", "An account with this email address already exists; log in instead.")
    try:
        password_validation.validate_password(password, User(email=email))
    except Exception as exc:  # ValidationError with a list of human-readable messages
        raise SignupError("password", " ".join(getattr(exc, "messages", [str(exc)]))) from exc
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, confirmed_age_at=now, accepted_terms_at=now)
            business = business_create(name=business_name.strip(), owner=user)
    except IntegrityError as exc:  # the same email signed up concurrently
        raise SignupError("email", "An account with this email address already exists; log in instead.") from exc
    return user, business


def api_token_create(*, user, business, name="", ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """Issue a token for `user` acting for `business`. Returns the row and the secret, which is shown once only."""
    from knox.settings import knox_settings

    return ApiToken.objects.create(user=user, business=business, name=name, expiry=ttl or knox_settings.TOKEN_TTL)


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()
