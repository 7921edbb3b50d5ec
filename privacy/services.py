"""Data requests: a customer's export and account deletion, and subscribers' access and deletion requests.

Every request is a DataRequest with a status, timestamps, who handled it and its own trail of DataRequestEvents;
the security-relevant steps also go to the audit log (never with the subscriber's number).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Business
from nextalerts.phones import InvalidPhoneNumber, phone_hash, to_e164

from . import archive, erasure
from .models import DataRequest, DataRequestEvent

Kind = DataRequest.Kind
Subject = DataRequest.Subject
Status = DataRequest.Status


def _event(data_request: DataRequest, *, action: str, actor=None, detail: str = "") -> DataRequestEvent:
    return DataRequestEvent.objects.create(request=data_request, actor=actor, action=action, detail=detail)


def _target(data_request: DataRequest) -> str:
    return f"data_request:{data_request.pk}"


# --- Subscribers' requests, handled by platform admins ------------------------------------------------------------


def data_request_open(
    *, kind: str, phone: str, actor, business: Business | None = None, note: str = "", request=None
) -> DataRequest:
    """Open an access or deletion request for a phone number, for every business it concerns or only `business`."""
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose access or deletion."})
    try:
        e164 = to_e164(phone or "")
    except InvalidPhoneNumber as exc:
        raise ValidationError({"phone_number": str(exc)}) from exc
    with transaction.atomic():
        data_request = DataRequest.objects.create(
            kind=kind,
            subject=Subject.PHONE,
            status=Status.OPEN,
            business=business,
            phone_number=e164,
            phone_hash=phone_hash(e164),
            handled_by=actor,
            note=note,
        )
        scope = f"limited to {business.name} (#{business.pk})" if business else "every business"
        _event(data_request, action="opened", actor=actor, detail=f"{kind} request for a phone number, {scope}")
        audit_record(
            action=AuditEvent.Action.DATA_REQUEST_OPENED,
            request=request,
            actor=actor,
            business=business,
            target=_target(data_request),
            details={"kind": kind, "subject": Subject.PHONE},
        )
    return data_request


def data_request_complete(*, data_request: DataRequest, actor, request=None) -> DataRequest:
    """Carry out an open subscriber request: an access request gets its archive, a deletion erases the number."""
    with transaction.atomic():
        locked = DataRequest.objects.select_for_update().filter(pk=data_request.pk).first()
        if locked is None or locked.status != Status.OPEN:
            raise ValidationError("Only an open request can be completed.")
        if locked.subject != Subject.PHONE:
            raise ValidationError("A customer's own requests are completed from their dashboard and the retention job.")
        phone = locked.phone_number
        if locked.kind == Kind.ACCESS:
            _complete_access(locked, actor=actor)
        else:
            _complete_deletion(locked, actor=actor)
        locked.status = Status.COMPLETED
        locked.completed_at = timezone.now()
        locked.handled_by = actor
        locked.save(update_fields=["status", "completed_at", "handled_by", "result", "archive", "phone_number"])
        _event(locked, action="completed", actor=actor, detail=_summary(locked.result))
        audit_record(
            action=AuditEvent.Action.DATA_REQUEST_COMPLETED,
            request=request,
            actor=actor,
            business=locked.business,
            target=_target(locked),
            details={"kind": locked.kind, "subject": locked.subject, "result": locked.result},
        )
    if locked.kind == Kind.DELETION:
        erasure.data_request_notes_scrub(phone=phone, phone_hash=locked.phone_hash)
        locked.refresh_from_db()
    return locked


def _complete_access(data_request: DataRequest, *, actor) -> None:
    sections = archive.phone_sections(phone_hash=data_request.phone_hash, business_id=data_request.business_id)
    about = {"request": data_request.pk, "kind": "subscriber access", "phone_number": data_request.phone_number}
    fileobj, counts = archive.archive_build(sections=sections, about=about)
    with fileobj:
        data_request.archive.save(f"request-{data_request.pk}-{timezone.now():%Y%m%d%H%M%S}.zip", File(fileobj), False)
    data_request.result = {"rows": counts}
    _event(data_request, action="archive_built", actor=actor, detail=_summary(counts))


def _complete_deletion(data_request: DataRequest, *, actor) -> None:
    counts = erasure.phone_erase(phone=data_request.phone_number, business_id=data_request.business_id)
    data_request.result = {"erased": counts}
    data_request.phone_number = ""
    detail = _summary(counts)
    if counts.get("consent_evidence_mentions"):
        detail += "; some consent evidence still quotes the number and cannot change without breaking the ledger"
    _event(data_request, action="erased", actor=actor, detail=detail)


def _summary(counts: dict) -> str:
    inner = counts.get("rows") or counts.get("erased") or counts
    return ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in inner.items() if isinstance(value, int))


# --- A customer's own business ------------------------------------------------------------------------------------


def business_export(*, business: Business, actor, request=None):
    """Everything the business holds, as a zip in a rewound temporary file (the caller streams and closes it).

    Recorded as a completed access request and in the audit log.
    """
    sections = archive.business_sections(business=business)
    about = {"business": business.pk, "name": business.name, "kind": "business export"}
    fileobj, counts = archive.archive_build(sections=sections, about=about)
    now = timezone.now()
    data_request = DataRequest.objects.create(
        kind=Kind.ACCESS,
        subject=Subject.BUSINESS,
        status=Status.COMPLETED,
        business=business,
        requested_by=actor,
        handled_by=actor,
        created_at=now,
        completed_at=now,
        result={"rows": counts},
    )
    _event(data_request, action="exported", actor=actor, detail=_summary(counts))
    audit_record(
        action=AuditEvent.Action.DATA_EXPORTED,
        request=request,
        actor=actor,
        business=business,
        target=_target(data_request),
        details={"rows": counts},
    )
    return fileobj


def business_purge_date(*, business: Business) -> datetime | None:
    """When a deleted business's data is purged (and until when its owner can cancel)."""
    if business.deletion_requested_at is None:
        return None
    return business.deletion_requested_at + timedelta(days=settings.RETENTION_DELETED_BUSINESS_DAYS)


def business_deletion_request(*, business: Business, actor, request=None) -> DataRequest:
    """Delete the business: sending and logins stop at once; the retention job purges it after the window."""
    with transaction.atomic():
        locked = Business.objects.select_for_update().get(pk=business.pk)
        if locked.status == Business.Status.DELETED:
            raise ValidationError("This business is already scheduled for deletion.")
        now = timezone.now()
        locked.status = Business.Status.DELETED
        locked.deletion_requested_at = now
        locked.deletion_requested_by = actor
        locked.save(update_fields=["status", "deletion_requested_at", "deletion_requested_by"])
        data_request = DataRequest.objects.create(
            kind=Kind.DELETION,
            subject=Subject.BUSINESS,
            status=Status.SCHEDULED,
            business=locked,
            requested_by=actor,
            created_at=now,
        )
        purge = business_purge_date(business=locked)
        _event(data_request, action="scheduled", actor=actor, detail=f"purge due {purge:%Y-%m-%d %H:%M} UTC")
        audit_record(
            action=AuditEvent.Action.DELETION_REQUESTED,
            request=request,
            actor=actor,
            business=locked,
            target=_target(data_request),
            details={"purge_due": purge.isoformat()},
        )
    business.refresh_from_db()
    return data_request


def business_deletion_cancel(*, business: Business, actor, request=None) -> Business:
    """Undo a scheduled deletion before the purge: the business is active again."""
    with transaction.atomic():
        locked = Business.objects.select_for_update().get(pk=business.pk)
        if locked.status != Business.Status.DELETED or locked.purged_at is not None:
            raise ValidationError("This business is not waiting to be deleted.")
        if business_purge_date(business=locked) <= timezone.now():
            # The retention job may be purging it right now, in several transactions: too late to take it back.
            raise ValidationError("This business's data is being removed; the deletion can no longer be cancelled.")
        locked.status = Business.Status.ACTIVE
        locked.deletion_requested_at = None
        locked.deletion_requested_by = None
        locked.save(update_fields=["status", "deletion_requested_at", "deletion_requested_by"])
        pending = DataRequest.objects.filter(
            business=locked, subject=Subject.BUSINESS, kind=Kind.DELETION, status=Status.SCHEDULED
        )
        for data_request in pending:
            _event(data_request, action="cancelled", actor=actor)
        pending.update(status=Status.CANCELLED, completed_at=timezone.now(), handled_by=actor)
        audit_record(
            action=AuditEvent.Action.DELETION_CANCELLED,
            request=request,
            actor=actor,
            business=locked,
            target="business",
        )
    business.refresh_from_db()
    return business


def business_deletion_complete(*, business: Business, actor=None) -> int:
    """Called by the purge once a deleted business's data is gone: its scheduled request is completed."""
    pending = list(
        DataRequest.objects.filter(
            business=business, subject=Subject.BUSINESS, kind=Kind.DELETION, status=Status.SCHEDULED
        )
    )
    for data_request in pending:
        _event(data_request, action="purged", actor=actor)
    return DataRequest.objects.filter(pk__in=[r.pk for r in pending]).update(
        status=Status.COMPLETED, completed_at=timezone.now(), handled_by=actor
    )
