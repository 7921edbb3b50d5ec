"""Erasing one subscriber's phone number and personal data, everywhere it is kept, for all businesses or one.

What survives is what the privacy policy keeps: the suppression (keyed by the phone hash, so the number is still
never texted by a business it opted out of) and the consent ledger entries, with their phone number blanked (the hash
chain covers the keyed hash, not the number, so it still verifies).
"""

import phonenumbers
from django.contrib.admin.models import LogEntry
from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast

from accounts.models import AuditEvent
from consent.locks import lock_phone
from consent.models import ConsentEvent, Suppression
from messaging.models import Message, WebhookEvent
from nextalerts.phones import phone_hash as hash_phone
from subscribers.models import Subscriber
from tracking.models import Click

from .archive import phone_business_ids

ERASED = "[erased]"


def phone_variants(e164: str) -> list[str]:
    """The ways the number is commonly written: +12025550143, 12025550143, 2025550143, (202) 555-0143, 202-555-0143."""
    variants = [e164, e164.lstrip("+")]
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return variants
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = str(parsed.national_number)
    variants += [digits, national, national.replace("(", "").replace(") ", "-"), national.replace(" ", "")]
    return list(dict.fromkeys(v for v in variants if len(v) >= 7))


def _mentions(field: str, variants: list[str], *, cast: bool = False) -> Q:
    name = f"{field}_text" if cast else field
    query = Q()
    for variant in variants:
        query |= Q(**{f"{name}__contains": variant})
    return query


def _scrub(text: str, variants: list[str]) -> str:
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, ERASED)
    return text


def phone_erase(*, phone: str, business_id: int | None = None) -> dict[str, int]:
    """Erase `phone` (E.164) for one business or all of them. Returns counts of what was erased, for the record.

    Runs in one transaction, holding each business's per-phone lock, so no send or STOP for the number interleaves.
    """
    digest = hash_phone(phone)
    variants = phone_variants(phone)
    ids = phone_business_ids(phone_hash=digest, business_id=business_id)
    counts: dict[str, int] = {}
    with transaction.atomic():
        scope = Q(business_id__in=ids) & (Q(phone_hash=digest) | Q(phone_number=phone))
        locked = set(Subscriber.objects.filter(scope).values_list("business_id", flat=True))
        locked |= set(ConsentEvent.objects.filter(scope).values_list("business_id", flat=True).distinct())
        locked |= set(Message.objects.filter(scope).order_by().values_list("business_id", flat=True).distinct())
        for bid in sorted(locked):
            lock_phone(business_id=bid, phone_hash=digest)

        # Clicks hang off the messages (and would cascade); counted on their own for the record.
        messages = Message.objects.filter(scope)
        counts["link_clicks"] = Click.objects.filter(message__in=messages.values("pk")).delete()[0]
        # Every text to and from the number goes, queued ones included, so nothing is left to send to it.
        counts["messages"] = messages.delete()[1].get(Message._meta.label, 0)
        # The row goes (name, email, notes, tags with it). A deleted subscriber can get no subscriber-only text;
        # the suppression below, keyed by the hash, still blocks everything else after a STOP.
        counts["subscribers"] = Subscriber.objects.filter(scope).delete()[1].get(Subscriber._meta.label, 0)
        counts["suppressions_kept"] = Suppression.objects.filter(scope).exclude(phone_number="").update(phone_number="")
        # The ledger refuses every change but this one (and so does its PostgreSQL trigger).
        ledger = ConsentEvent.objects.filter(scope).exclude(phone_number="")
        counts["consent_events_kept"] = models.QuerySet.update(ledger, phone_number="")
        # Evidence is covered by the hash chain and cannot change: report any that still mentions the number.
        counts["consent_evidence_mentions"] = (
            ConsentEvent.objects.filter(business_id__in=ids, phone_hash=digest)
            .annotate(evidence_text=Cast("evidence", TextField()))
            .filter(_mentions("evidence", variants, cast=True))
            .count()
        )
        counts["webhook_events"] = _scrub_webhooks(variants, business_id)
        counts["audit_events"] = _scrub_audit(variants, business_id)
        counts["admin_log_entries"] = _scrub_admin_log(variants)
    return counts


def _scrub_webhooks(variants: list[str], business_id: int | None) -> int:
    """Raw provider payloads carry the number: blank them, keeping the row so a redelivery stays a no-op."""
    events = WebhookEvent.objects.annotate(payload_text=Cast("payload", TextField())).filter(
        _mentions("payload", variants, cast=True)
    )
    if business_id:
        events = events.filter(business_id=business_id)
    ids = list(events.values_list("pk", flat=True))
    return WebhookEvent.objects.filter(pk__in=ids).update(payload={"erased": True})


def _scrub_audit(variants: list[str], business_id: int | None) -> int:
    """The audit log never records a subscriber's number by design; this catches any that slipped in."""
    events = AuditEvent.objects.annotate(details_text=Cast("details", TextField())).filter(
        _mentions("target", variants) | _mentions("details", variants, cast=True)
    )
    if business_id:
        events = events.filter(business_id=business_id)
    changed = 0
    for event in events.only("pk", "target", "details"):
        AuditEvent.objects.filter(pk=event.pk).update(target=_scrub(event.target, variants), details={"erased": True})
        changed += 1
    return changed


def _scrub_admin_log(variants: list[str]) -> int:
    """The admin's history names the objects it changed (a subscriber's name is its number)."""
    entries = LogEntry.objects.filter(_mentions("object_repr", variants) | _mentions("change_message", variants))
    changed = 0
    for entry in entries.only("pk", "object_repr", "change_message"):
        LogEntry.objects.filter(pk=entry.pk).update(
            object_repr=_scrub(entry.object_repr, variants), change_message=_scrub(entry.change_message, variants)
        )
        changed += 1
    return changed


def data_request_notes_scrub(*, phone: str, phone_hash: str) -> None:
    """Requests for this number keep only its hash; their notes (typed by an admin) lose any copy of it."""
    from .models import DataRequest

    variants = phone_variants(phone)
    for request in DataRequest.objects.filter(phone_hash=phone_hash).only("pk", "note", "archive"):
        if request.archive:
            # An earlier access archive is a full copy of the erased data.
            request.archive.delete(save=False)
        DataRequest.objects.filter(pk=request.pk).update(
            phone_number="", note=_scrub(request.note, variants), archive=""
        )
