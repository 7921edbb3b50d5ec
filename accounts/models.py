"""Accounts: the Business (the tenant), users who log in with their email, their memberships and API tokens."""

import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken

from nextalerts.webhook_events import ProviderWebhookEvent


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in to the dashboard or the API, by email address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can log in to the platform admin.")
    date_joined = models.DateTimeField(default=timezone.now)
    # Signup requires both; kept as evidence of when they were given.
    confirmed_age_at = models.DateTimeField(null=True, blank=True)
    accepted_terms_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    # How many API tokens the last save of a new password revoked (None when no save replaced it).
    api_tokens_revoked: int | None = None
    _password_disabled = False

    def __str__(self):
        return self.email

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args, **kwargs):
        """A new password ends what the old one opened, whichever page, command or shell saved it: the API tokens go
        here, and the other sessions end because Django ties each one to the password's hash. set_password() leaves
        the raw password in `_password` until the save (a hash upgrade at log-in does not, and keeps the tokens)."""
        update_fields = kwargs.get("update_fields")
        replaced = (
            (self._password is not None or self._password_disabled)
            and not self._state.adding
            and (update_fields is None or "password" in update_fields)
        )
        super().save(*args, **kwargs)
        self._password_disabled = False
        if replaced:
            self.api_tokens_revoked, _ = ApiToken.objects.filter(user=self).delete()


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone; use an IANA name such as 'America/New_York'.")


# A page people can open in a browser: http or https only (no javascript:, ftp: or mailto: links on public pages).
WEB_ADDRESS = URLValidator(
    schemes=["http", "https"],
    message="Enter a web address starting with https:// (or http://), such as https://example.com/terms.",
)


class Business(models.Model):
    """The tenant: every subscriber, number, keyword and message belongs to exactly one business."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"  # by a platform admin: nothing is sent, inbound STOP/HELP still honoured
        DELETED = "deleted"  # deletion requested; data purged after the retention window

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    address = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="The business's own contact number.")
    support_contact = models.CharField(
        max_length=255, blank=True, help_text="Shown in HELP replies: an email address, phone number or web address."
    )
    help_text = models.TextField(
        blank=True,
        help_text="A custom reply to HELP; empty means the standard one, made from the name and contact.",
    )
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # Frequency cap: marketing messages one subscriber may get from this business in 24 hours.
    marketing_messages_per_day = models.PositiveSmallIntegerField(default=3)
    created_at = models.DateTimeField(auto_now_add=True)
    # Deletion: requested by an owner (sending and logins stop at once; cancellable until the purge), then purged by
    # the retention job; the row stays as a tombstone holding the pseudonymised consent evidence until that expires.
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deletion_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purged_at = models.DateTimeField(null=True, blank=True)
    # What kind of business it is ("pizza shop", "real-estate agent"): tells the campaign writer how to sound.
    category = models.CharField(max_length=80, blank=True)
    # The business's own terms and privacy policy, linked from its hosted sign-up form; empty means the platform's.
    terms_url = models.URLField(
        max_length=500,
        blank=True,
        validators=[WEB_ADDRESS],
        help_text="Your own terms page, linked from your sign-up form. Empty: NextAlerts' terms.",
    )
    privacy_url = models.URLField(
        max_length=500,
        blank=True,
        validators=[WEB_ADDRESS],
        help_text="Your own privacy policy, linked from your sign-up form. Empty: NextAlerts' privacy policy.",
    )

    # Billing (accounts/billing.py): the plan, and Stripe's view of the subscription, kept in step by its webhooks.
    class BillingStatus(models.TextChoices):
        NONE = "none"  # the free plan, never subscribed
        ACTIVE = "active"
        PAST_DUE = "past_due"  # a payment failed: campaigns pause after BILLING_GRACE_DAYS; consent replies never
        CANCELED = "canceled"

    plan = models.CharField(max_length=32, default="free")
    billing_status = models.CharField(max_length=16, choices=BillingStatus.choices, default=BillingStatus.NONE)
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "businesses"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    """What a member may do; each role includes the ones below it."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @classmethod
    def rank(cls, role):
        return {cls.MEMBER: 1, cls.ADMIN: 2, cls.OWNER: 3}[role]


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "business"], name="membership_unique_user_business")]

    def __str__(self):
        return f"{self.user} @ {self.business} ({self.role})"

    def has_role(self, role):
        return Role.rank(self.role) >= Role.rank(role)


class ApiToken(AbstractAuthToken):
    """An API token: stored as a SHA-512 digest only, bound to one business, expiring after idle time."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created"]


class Invitation(models.Model):
    """An owner's invitation for someone to join a business with a role, accepted through an emailed link.

    Only a SHA-256 digest of the link's token is stored, so a database leak cannot be turned into working links.
    """

    VALID_FOR = timedelta(days=7)

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["business", "accepted_at"], name="invitation_business_pending")]

    def __str__(self):
        return f"{self.email} → {self.business} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class AuditEvent(models.Model):
    """A security-relevant action: who, what, when, from where. Append-only; kept 12 months (AUDIT_LOG_DAYS)."""

    class Action(models.TextChoices):
        LOGIN = "login"
        LOGIN_FAILED = "login_failed"
        LOGOUT = "logout"
        PASSWORD_RESET = "password_reset"
        PASSWORD_CHANGED = "password_changed"
        EMAIL_CHANGE_REQUESTED = "email_change_requested"
        EMAIL_CHANGED = "email_changed"
        NAME_CHANGED = "name_changed"
        TOKEN_CREATED = "token_created"
        TOKEN_REVOKED = "token_revoked"
        MEMBER_INVITED = "member_invited"
        MEMBER_JOINED = "member_joined"
        ROLE_CHANGED = "role_changed"
        MEMBER_REMOVED = "member_removed"
        DATA_EXPORTED = "data_exported"
        DELETION_REQUESTED = "deletion_requested"
        DELETION_CANCELLED = "deletion_cancelled"
        BUSINESS_PURGED = "business_purged"
        SUPPRESSION_ADDED = "suppression_added"
        SUPPRESSION_REMOVED = "suppression_removed"
        POLICY_ACKNOWLEDGED = "policy_acknowledged"
        DATA_REQUEST_OPENED = "data_request_opened"
        DATA_REQUEST_COMPLETED = "data_request_completed"

    action = models.CharField(max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # Kept when the user is gone, and for failed logins, which have no user.
    actor_email = models.EmailField(blank=True)
    business = models.ForeignKey(
        Business, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    # What was acted on, e.g. "token:4f1c", "membership:12", "data_request:3"; never a subscriber's phone number.
    target = models.CharField(max_length=120, blank=True)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["business", "occurred_at"], name="audit_business_time")]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.actor_email or '-'}"


class SegmentUsage(models.Model):
    """Message segments a business sent in one billing period, counted as they are handed to the provider."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="segment_usage")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    segments = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-period_start"]
        constraints = [models.UniqueConstraint(fields=["business", "period_start"], name="segment_usage_unique_period")]

    def __str__(self):
        return f"{self.business} {self.period_start:%Y-%m-%d}: {self.segments}"


class BillingWebhookEvent(ProviderWebhookEvent):
    """A Stripe event (a checkout, an invoice, a subscription change), stored once by its id."""

    # The business the event turned out to concern, once handled (none for customers no business has).
    business = models.ForeignKey(
        Business, null=True, blank=True, on_delete=models.SET_NULL, related_name="billing_webhook_events"
    )

    class Meta(ProviderWebhookEvent.Meta):
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="billing_webhook_event_unique_provider_id"),
        ]
        indexes = [models.Index(fields=["received_at"], name="billing_webhook_received")]
