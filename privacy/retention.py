"""Retention: the deletions the privacy policy promises, each after a period set in settings (RETENTION_*).

Run daily by privacy.tasks.enforce_retention and on demand by `manage.py enforce_retention`. Every rule is safe to run
again, and tables that can hold millions of rows are deleted in bounded chunks of ids, each its own transaction.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import ApiToken, AuditEvent, BillingWebhookEvent, Business, Invitation, Membership, User
from campaigns.models import Campaign
from consent.models import ConsentEvent, Suppression
from messaging.models import Message, WebhookEvent
from messaging.webhooks import PENDING
from subscribers.models import Keyword, SenderNumber, Subscriber, Tag
from tracking.models import Click, QRCode, Scan

from .models import DataRequest, DataRequestEvent
from .services import business_deletion_complete

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000


def archive_download_days() -> int:
    """How long a data request's archive can be downloaded once it is ready."""
    return settings.RETENTION_ARCHIVE_DAYS


def retention_rules() -> dict[str, str]:
    """Each count retention_enforce() reports, in words, with the periods now in force."""
    return {
        "messages": f"texts sent and received (bodies and delivery records) older than "
        f"{settings.RETENTION_MESSAGE_DAYS} days",
        "link_clicks": "link clicks on those texts",
        "webhook_events": f"raw webhook and delivery notices older than {settings.RETENTION_WEBHOOK_DAYS} days "
        "(never one still waiting to be applied)",
        "billing_webhook_events": f"raw Stripe event notices older than {settings.RETENTION_WEBHOOK_DAYS} days",
        "audit_events": f"security audit log entries older than {settings.RETENTION_AUDIT_DAYS} days",
        "archives": f"data request archives ready more than {archive_download_days()} days ago",
        "businesses_purged": f"businesses deleted more than {settings.RETENTION_DELETED_BUSINESS_DAYS} days ago: all "
        "their data, except a pseudonymised consent record and opt-out list",
        "evidence_expired": f"purged businesses whose consent record is older than "
        f"{settings.RETENTION_CONSENT_EVIDENCE_DAYS} days: the record, the opt-out list and the name",
    }


def retention_enforce(*, now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Apply every retention rule at `now`; with dry_run, only count what would go. Returns counts per rule.

    The rules run in an order where none changes what a later one counts, so a dry run reports what a real run does.
    """
    now = now or timezone.now()
    counts = {}
    messages = Message.objects.filter(created_at__lt=now - timedelta(days=settings.RETENTION_MESSAGE_DAYS))
    if dry_run:
        counts["messages"] = messages.count()
        counts["link_clicks"] = Click.objects.filter(message__in=messages.values("pk")).count()
    else:
        deleted = _delete(messages)
        counts["messages"] = deleted[Message._meta.label_lower]
        counts["link_clicks"] = deleted[Click._meta.label_lower]

    webhook_events = WebhookEvent.objects.filter(
        received_at__lt=now - timedelta(days=settings.RETENTION_WEBHOOK_DAYS)
    ).exclude(outcome=PENDING)
    counts["webhook_events"] = _count_or_delete(webhook_events, dry_run=dry_run)
    billing_events = BillingWebhookEvent.objects.filter(
        received_at__lt=now - timedelta(days=settings.RETENTION_WEBHOOK_DAYS)
    )
    counts["billing_webhook_events"] = _count_or_delete(billing_events, dry_run=dry_run)

    audit_events = AuditEvent.objects.filter(occurred_at__lt=now - timedelta(days=settings.RETENTION_AUDIT_DAYS))
    counts["audit_events"] = _count_or_delete(audit_events, dry_run=dry_run)

    counts["archives"] = _archives_expire(now=now, dry_run=dry_run)

    due = businesses_due_for_purge(now=now)
    if dry_run:
        counts["businesses_purged"] = due.count()
    else:
        counts["businesses_purged"] = 0
        for business in due.order_by("pk"):
            try:
                business_purge(business=business, now=now)
            except Exception:
                # One business's failure must not hold back the others, nor the rules after this one; it stays due.
                logger.exception("privacy.retention.purge-failed", extra={"business_id": business.pk})
                continue
            counts["businesses_purged"] += 1

    counts["evidence_expired"] = _evidence_expire(now=now, dry_run=dry_run)
    logger.info("privacy.retention.done", extra={"dry_run": dry_run, **counts})
    return counts


# --- Deleted businesses -------------------------------------------------------------------------------------------


def businesses_due_for_purge(*, now: datetime | None = None) -> QuerySet:
    """Businesses deleted longer ago than RETENTION_DELETED_BUSINESS_DAYS and not yet purged."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DELETED_BUSINESS_DAYS)
    return Business.objects.filter(
        status=Business.Status.DELETED, deletion_requested_at__lt=cutoff, purged_at__isnull=True
    )


def business_purge(*, business: Business, now: datetime | None = None) -> dict[str, int]:
    """Delete everything a deleted business holds once its deletion is old enough, except what the law makes us
    keep: its consent ledger and suppressions, with the phone numbers erased (the keyed hash stays, so the chain
    still verifies and an opted-out number stays blocked). The Business row stays, with only its name, as the
    tombstone they hang on until their evidence period ends. Returns counts of what went, for the record.

    Safe to run again after an interruption: each step only finds what is left, and purged_at is set last.
    """
    now = now or timezone.now()
    if not businesses_due_for_purge(now=now).filter(pk=business.pk).exists():
        raise ValueError(f"Business {business.pk} is not deleted, already purged, or still within its grace period.")
    counts: Counter = Counter()

    # The large tables first, in chunks. Clicks before their messages, so that they are counted.
    for queryset in (
        Click.objects.filter(business=business),
        Message.objects.filter(business=business),
        Scan.objects.filter(business=business),
        WebhookEvent.objects.filter(business=business),
        BillingWebhookEvent.objects.filter(business=business),
        Subscriber.objects.filter(business=business),
    ):
        counts += _delete(queryset)
    for queryset in (
        Campaign.objects.filter(business=business),
        QRCode.objects.filter(business=business),
        Keyword.objects.filter(business=business),
        SenderNumber.objects.filter(business=business),
        Tag.objects.filter(business=business),
        Invitation.objects.filter(business=business),
        ApiToken.objects.filter(business=business),
    ):
        counts += _delete(queryset)

    with transaction.atomic():
        # Users go with their last membership, in the same transaction, so a re-run never loses track of them.
        user_ids = list(Membership.objects.filter(business=business).values_list("user_id", flat=True))
        counts += _delete(Membership.objects.filter(business=business))
        # Platform staff keep their accounts; a user still in another business keeps theirs.
        counts += _delete(
            User.objects.filter(pk__in=user_ids, memberships__isnull=True, is_staff=False, is_superuser=False)
        )

    requests = DataRequest.objects.filter(business=business)
    for request in requests.exclude(archive="").only("pk", "archive"):
        # The file first: a failure after it leaves a field pointing at nothing, which the next run clears.
        request.archive.delete(save=False)
        DataRequest.objects.filter(pk=request.pk).update(archive="")
        counts["data_request_archives"] += 1

    with transaction.atomic():
        counts["suppressions_kept"] = Suppression.objects.filter(business=business).count()
        Suppression.objects.filter(business=business).exclude(phone_number="").update(phone_number="")
        counts["consent_events_kept"] = ConsentEvent.objects.filter(business=business).count()
        # The one change the ledger allows (its PostgreSQL trigger too): the hash chain covers the keyed hash.
        QuerySet.update(ConsentEvent.objects.filter(business=business).exclude(phone_number=""), phone_number="")
        requests.exclude(phone_number="").update(phone_number="")

        details = {key: n for key, n in sorted(counts.items()) if n}
        business_deletion_complete(business=business)
        Business.objects.filter(pk=business.pk).update(
            address="", phone="", support_contact="", help_text="", deletion_requested_by=None, purged_at=now
        )
        audit_record(
            action=AuditEvent.Action.BUSINESS_PURGED,
            business=business,
            target=f"business:{business.pk}",
            details=details,
        )
    logger.info("privacy.retention.business-purged", extra={"business_id": business.pk, **details})
    return details


def _evidence_expire(*, now: datetime, dry_run: bool) -> int:
    """A purged business's consent record, suppressions and tombstone, once the evidence period is over."""
    days = settings.RETENTION_CONSENT_EVIDENCE_DAYS
    due = Business.objects.filter(status=Business.Status.DELETED, purged_at__lt=now - timedelta(days=days))
    if dry_run:
        return due.count()
    expired = 0
    for business in due.order_by("pk").only("pk"):
        try:
            with transaction.atomic():
                # Suppressions first: they point at the ledger rows that recorded them.
                Suppression.objects.filter(business=business).delete()
                ConsentEvent.objects.filter(business=business).delete_expired_evidence(evidence_days=days, now=now)
                _forget_admin_history(Business, [business.pk])
                business.delete()
        except DatabaseError:
            # The database refused (on PostgreSQL its own clock decides): keep the evidence, try again tomorrow.
            logger.exception("privacy.retention.evidence-refused", extra={"business_id": business.pk})
            continue
        expired += 1
    return expired


# --- Data request archives ----------------------------------------------------------------------------------------


def _archives_expire(*, now: datetime, dry_run: bool) -> int:
    days = archive_download_days()
    cutoff = now - timedelta(days=days)
    due = DataRequest.objects.exclude(archive="").filter(
        Q(completed_at__lt=cutoff) | Q(completed_at__isnull=True, created_at__lt=cutoff)
    )
    if dry_run:
        return due.count()
    deleted = 0
    for request in due.only("pk", "archive").iterator():
        request.archive.delete(save=False)
        with transaction.atomic():
            DataRequest.objects.filter(pk=request.pk).update(archive="")
            DataRequestEvent.objects.create(
                request_id=request.pk,
                occurred_at=now,
                action="archive_deleted",
                detail=f"The archive was deleted: its {days}-day download window ended.",
            )
        deleted += 1
    return deleted


# --- Chunked deletes ------------------------------------------------------------------------------------------------


def _count_or_delete(queryset: QuerySet, *, dry_run: bool) -> int:
    if dry_run:
        return queryset.count()
    return _delete(queryset)[queryset.model._meta.label_lower]


def _delete(queryset: QuerySet, *, batch_size: int = BATCH_SIZE) -> Counter:
    """Delete the queryset's rows (and what cascades from them) in chunks of ids, walking the primary key: bounded
    locks and memory on a table of millions, and no full rescan per chunk. Returns counts per model (label_lower)."""
    model = queryset.model
    counts: Counter = Counter()
    remaining = queryset.order_by("pk")
    while ids := list(remaining.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            _, per_model = model._base_manager.filter(pk__in=ids).only("pk").delete()
            _forget_admin_history(model, ids)
        counts.update({label.lower(): n for label, n in per_model.items()})
        remaining = queryset.filter(pk__gt=ids[-1]).order_by("pk")
    return counts


def _forget_admin_history(model, ids) -> None:
    """The admin's change history names each object it touched (a subscriber by its number): it goes with them."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in ids]).delete()
