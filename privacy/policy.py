"""Policy documents: which version is in force, publishing a new one, and customers' acknowledgement of a material
change (an in-app notice until acknowledged, and one email each)."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Business, User

from .models import PolicyDocument, PolicyNotice

logger = logging.getLogger(__name__)

# The operator of a deployment sets PRIVACY_CONTACT_EMAIL; while this placeholder is in use the pages say so.
PLACEHOLDER_CONTACT_EMAIL = "privacy@nextalerts.example"

KIND_URL_NAMES = {PolicyDocument.Kind.PRIVACY: "privacy", PolicyDocument.Kind.TERMS: "terms"}


def contact_email() -> str:
    return getattr(settings, "PRIVACY_CONTACT_EMAIL", "") or PLACEHOLDER_CONTACT_EMAIL


def policy_url(document: PolicyDocument) -> str:
    return reverse(f"{KIND_URL_NAMES[document.kind]}-version", kwargs={"version": document.version})


# --- selectors --------------------------------------------------------------------------------------------------------
def _published(kind: str) -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.filter(kind=kind, published_at__isnull=False)


def policy_current(*, kind: str, today=None) -> PolicyDocument | None:
    """The version in force: the newest published one whose effective date has come."""
    today = today or timezone.localdate()
    return _published(kind).filter(effective_on__lte=today).order_by("-version").first()


def policy_upcoming(*, kind: str, today=None) -> PolicyDocument | None:
    """A published version that takes effect later (customers are told before it applies)."""
    today = today or timezone.localdate()
    return _published(kind).filter(effective_on__gt=today).order_by("effective_on", "version").first()


def policy_by_version(*, kind: str, version: int) -> PolicyDocument | None:
    return _published(kind).filter(version=version).first()


def policy_versions(*, kind: str) -> QuerySet[PolicyDocument]:
    return _published(kind).order_by("-version")


def policy_notices_pending(*, user) -> list[PolicyNotice]:
    """The material changes this user has not acknowledged yet, oldest first."""
    if user is None or not user.is_authenticated:
        return []
    return list(
        PolicyNotice.objects.filter(user=user, acknowledged_at__isnull=True, document__published_at__isnull=False)
        .select_related("document")
        .order_by("document__published_at", "id")
    )


def policy_notice_for(*, user, pk: int) -> PolicyNotice | None:
    return PolicyNotice.objects.select_related("document").filter(user=user, pk=pk).first()


def customer_users() -> QuerySet[User]:
    """Everyone who logs in for a business that still exists: the people a material change must reach."""
    return (
        User.objects.filter(is_active=True)
        .filter(memberships__business__status__in=[Business.Status.ACTIVE, Business.Status.SUSPENDED])
        .distinct()
    )


# --- services ---------------------------------------------------------------------------------------------------------
def policy_document_check(*, document: PolicyDocument) -> None:
    """A version can be published only with its text in place and, when material, a plain summary of the change."""
    errors = {}
    try:
        get_template(document.template_name)
    except TemplateDoesNotExist:
        errors["template_name"] = f"There is no template {document.template_name!r}."
    if document.material and not document.changes.strip():
        errors["changes"] = "A material change needs a summary of what changed; customers are shown it."
    if errors:
        raise ValidationError(errors)


def policy_publish(*, document: PolicyDocument) -> dict:
    """Publish `document` (once: a second run keeps the first publication time) and, for a material change, give
    every customer user a notice and one email. Safe to run again: it only reaches users not yet reached."""
    policy_document_check(document=document)
    if document.published_at is None:
        PolicyDocument.objects.filter(pk=document.pk, published_at__isnull=True).update(published_at=timezone.now())
        document.refresh_from_db(fields=["published_at"])
    counts = {"notices": 0, "emailed": 0, "email_failed": 0}
    if not document.material:
        return counts
    # Someone who signed up after publication accepted this version then; they need no notice.
    users = (
        customer_users()
        .filter(date_joined__lte=document.published_at)
        .exclude(policy_notices__document=document)
        .values_list("pk", flat=True)
    )
    created = PolicyNotice.objects.bulk_create(
        [PolicyNotice(document=document, user_id=pk) for pk in users], ignore_conflicts=True, batch_size=1000
    )
    counts["notices"] = len(created)
    for notice in PolicyNotice.objects.filter(document=document, emailed_at__isnull=True).select_related("user"):
        if _email_notice(notice):
            counts["emailed"] += 1
        else:
            counts["email_failed"] += 1
    return counts


def _email_notice(notice: PolicyNotice) -> bool:
    # Claim the notice before sending, so two publishing runs at once cannot both email the same person.
    now = timezone.now()
    if not PolicyNotice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=now):
        return False
    document = notice.document
    context = {
        "document": document,
        "user": notice.user,
        "review_url": settings.PUBLIC_BASE_URL + reverse("policy-review", kwargs={"pk": notice.pk}),
        "document_url": settings.PUBLIC_BASE_URL + policy_url(document),
        "contact_email": contact_email(),
    }
    subject = render_to_string("privacy/email/policy_changed_subject.txt", context).strip()
    body = render_to_string("privacy/email/policy_changed.txt", context)
    try:
        send_mail(subject, body, None, [notice.user.email])
    except Exception:
        # Released, so the next publishing run tries this person again.
        PolicyNotice.objects.filter(pk=notice.pk).update(emailed_at=None)
        logger.exception("privacy.policy.email-failed", extra={"notice": notice.pk})
        return False
    return True


def policy_acknowledge(*, user, document: PolicyDocument, request=None) -> PolicyNotice:
    """Record that `user` has read and accepted a material change (once; acknowledging again changes nothing)."""
    with transaction.atomic():
        notice, _created = PolicyNotice.objects.select_for_update().get_or_create(document=document, user=user)
        if notice.acknowledged_at is not None:
            return notice
        notice.acknowledged_at = timezone.now()
        notice.save(update_fields=["acknowledged_at"])
        audit_record(
            action=AuditEvent.Action.POLICY_ACKNOWLEDGED,
            request=request,
            actor=user,
            target=f"policy:{document.kind}:v{document.version}",
            details={"kind": document.kind, "version": document.version},
        )
    return notice
