"""Data requests, policy documents and who has seen them."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class PolicyDocument(models.Model):
    """One published version of the privacy policy or the terms of service; its words are a template."""

    class Kind(models.TextChoices):
        PRIVACY = "privacy", "Privacy policy"
        TERMS = "terms", "Terms of service"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.PositiveIntegerField()
    effective_on = models.DateField()
    # A material change: every customer user sees a notice until they acknowledge it, and gets one email.
    material = models.BooleanField(default=False)
    changes = models.TextField(blank=True, help_text="What changed from the previous version, in plain words.")
    template_name = models.CharField(max_length=200, help_text="The template holding this version's text.")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="policy_unique_version")]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"


class PolicyNotice(models.Model):
    """A customer user's copy of a material change: when they were emailed, and when they acknowledged it."""

    document = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_notices")
    emailed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["document", "user"], name="policy_notice_unique_user")]

    def __str__(self):
        return f"{self.document} for {self.user}"


class DataRequest(models.Model):
    """An access or deletion request, for a customer's business or for a subscriber's phone number."""

    class Kind(models.TextChoices):
        ACCESS = "access"
        DELETION = "deletion"

    class Subject(models.TextChoices):
        BUSINESS = "business", "A customer's business"
        PHONE = "phone", "A subscriber's phone number"

    class Status(models.TextChoices):
        OPEN = "open"
        SCHEDULED = "scheduled"  # a business deletion waiting for its purge date; the owner can still cancel
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=16, choices=Subject.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The business concerned (a customer request), or the one a subscriber request is limited to (none: all).
    business = models.ForeignKey(
        "accounts.Business", null=True, blank=True, on_delete=models.SET_NULL, related_name="data_requests"
    )
    # A subscriber request: the number while the request is open; only its keyed hash once a deletion is done.
    phone_number = models.CharField(max_length=20, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, help_text="How the request came in and was verified.")
    archive = models.FileField(upload_to="data-requests/", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Counts of what a deletion erased or an access archive held, for the record.
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} request ({self.get_subject_display()}) #{self.pk}"


class DataRequestEvent(models.Model):
    """The audit trail of one request: each step, by whom and when."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self):
        return f"{self.request} {self.action}"
