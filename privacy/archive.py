"""Data archives: a zip holding everything as one JSON file plus one CSV per table, written row by row.

Rows are read with `.iterator()` and written straight into the zip member, so a business with a million messages
is exported in bounded memory (the zip itself goes to a temporary file, not to RAM).
"""

import csv
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Business, Membership
from campaigns.models import Campaign, Message
from consent.models import ConsentEvent, Suppression
from subscribers.models import Keyword, SenderNumber, Subscriber
from tracking.models import Click, QRCode, Scan

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Section:
    """One table of an archive: its name (the CSV's file name and the JSON key), its rows and their columns."""

    name: str
    queryset: QuerySet
    fields: tuple[str, ...]


def business_sections(*, business: Business) -> list[Section]:
    """Everything a customer's business holds, each table filtered on that business and nothing else."""
    bid = business.pk
    return [
        Section(
            "business",
            Business.objects.filter(pk=bid),
            (
                "id",
                "name",
                "slug",
                "address",
                "phone",
                "support_contact",
                "help_text",
                "time_zone",
                "status",
                "marketing_messages_per_day",
                "created_at",
                "deletion_requested_at",
            ),
        ),  # fmt: skip
        Section(
            "team",
            Membership.objects.filter(business_id=bid).order_by("id"),
            ("id", "user__email", "user__full_name", "role", "created_at"),
        ),
        Section(
            "numbers",
            SenderNumber.objects.filter(business_id=bid).order_by("id"),
            ("id", "phone_number", "messages_per_second", "created_at"),
        ),
        Section(
            "keywords",
            Keyword.objects.filter(business_id=bid).order_by("id"),
            ("id", "number__phone_number", "keyword", "confirmation_text", "is_active", "created_at"),
        ),
        Section(
            "subscribers",
            Subscriber.objects.filter(business_id=bid).order_by("id"),
            (
                "id",
                "phone_number",
                "status",
                "opt_in_method",
                "opted_in_at",
                "opted_out_at",
                "pending_since",
                "qr_code_id",
                "name",
                "email",
                "notes",
                "created_at",
                "updated_at",
            ),
        ),  # fmt: skip
        Section(
            "consent_ledger",
            ConsentEvent.objects.filter(business_id=bid).order_by("sequence"),
            (
                "sequence",
                "phone_number",
                "phone_hash",
                "kind",
                "method",
                "occurred_at",
                "evidence",
                "provider_message_id",
                "prev_hash",
                "row_hash",
            ),
        ),  # fmt: skip
        Section(
            "suppressions",
            Suppression.objects.filter(business_id=bid).order_by("id"),
            ("id", "phone_number", "phone_hash", "reason", "created_at"),
        ),
        Section(
            "campaigns",
            Campaign.objects.filter(business_id=bid).order_by("id"),
            (
                "id",
                "name",
                "body",
                "media_urls",
                "status",
                "status_detail",
                "send_at",
                "created_at",
                "launched_at",
                "completed_at",
                "audience_size",
                "skipped_suppressed",
                "skipped_frequency",
            ),
        ),  # fmt: skip
        Section(
            "messages",
            Message.objects.filter(business_id=bid).order_by("id"),
            _message_fields(),
        ),
        Section(
            "qr_codes",
            QRCode.objects.filter(business_id=bid).order_by("id"),
            ("id", "label", "slug", "ref", "keyword__keyword", "number__phone_number", "is_active", "created_at"),
        ),
        Section(
            "qr_scans",
            Scan.objects.filter(business_id=bid).order_by("id"),
            ("id", "qr_code_id", "scanned_at", "device_type", "os", "browser", "user_agent", "ip", "referrer"),
        ),
        Section(
            "link_clicks",
            Click.objects.filter(business_id=bid).order_by("id"),
            ("id", "campaign_id", "message_id", "url", "clicked_at", "is_preview", "user_agent", "ip"),
        ),
    ]


def phone_business_ids(*, phone_hash: str, business_id: int | None = None) -> list[int]:
    """The businesses an erasure or access request searches: the one it is limited to, or all of them (so that the
    per-business phone_hash indexes serve every lookup, and a plain text from a non-subscriber is found too)."""
    if business_id:
        return [business_id]
    return list(Business.objects.order_by("id").values_list("id", flat=True))


def phone_sections(*, phone_hash: str, business_id: int | None = None) -> list[Section]:
    """What the service holds about one phone number, across the businesses it concerns (or only one)."""
    ids = phone_business_ids(phone_hash=phone_hash, business_id=business_id)
    scope = Q(business_id__in=ids, phone_hash=phone_hash)
    concerned = set()
    for model in (Subscriber, ConsentEvent, Suppression, Message):
        concerned.update(model.objects.filter(scope).order_by().values_list("business_id", flat=True).distinct())
    businesses = Business.objects.filter(pk__in=concerned).order_by("id")
    return [
        Section("businesses", businesses, ("id", "name", "support_contact")),
        Section(
            "subscriptions",
            Subscriber.objects.filter(scope).order_by("id"),
            (
                "business_id",
                "phone_number",
                "status",
                "opt_in_method",
                "opted_in_at",
                "opted_out_at",
                "pending_since",
                "name",
                "email",
                "notes",
                "created_at",
            ),
        ),  # fmt: skip
        Section(
            "consent_ledger",
            ConsentEvent.objects.filter(scope).order_by("business_id", "sequence"),
            ("business_id", "sequence", "phone_number", "kind", "method", "occurred_at", "evidence"),
        ),
        Section(
            "suppressions",
            Suppression.objects.filter(scope).order_by("id"),
            ("business_id", "phone_number", "reason", "created_at"),
        ),
        Section(
            "messages",
            Message.objects.filter(scope).order_by("id"),
            (
                "business_id",
                "direction",
                "kind",
                "phone_number",
                "body",
                "status",
                "created_at",
                "sent_at",
                "delivered_at",
            ),
        ),  # fmt: skip
        Section(
            "link_clicks",
            Click.objects.filter(message__in=Message.objects.filter(scope).values("pk")).order_by("id"),
            ("business_id", "url", "clicked_at", "user_agent", "ip"),
        ),
    ]


def _message_fields() -> tuple[str, ...]:
    return (
        "id", "direction", "kind", "sender_number__phone_number", "phone_number", "body", "status", "campaign_id",
        "send_after", "provider_message_id", "error_code", "error_detail", "parts", "cost", "cost_currency",
        "created_at", "sent_at", "delivered_at",
    )  # fmt: skip


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return _json_value(value)


def _rows(section: Section):
    return section.queryset.values_list(*section.fields).iterator(chunk_size=CHUNK_SIZE)


def archive_write(*, fileobj, sections: list[Section], about: dict) -> dict[str, int]:
    """Write the zip into `fileobj`: data.json (everything) and <section>.csv for each table. Returns row counts."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            with archive.open(f"{section.name}.csv", "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(section.fields)
                count = 0
                for row in _rows(section):
                    writer.writerow([_csv_value(v) for v in row])
                    count += 1
                text.flush()
                text.detach()
            counts[section.name] = count
        with archive.open("data.json", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8")
            header = {**about, "exported_at": timezone.now().isoformat(), "counts": counts}
            text.write(json.dumps(header, default=str)[:-1])
            text.write(', "data": {')
            for index, section in enumerate(sections):
                text.write(("," if index else "") + json.dumps(section.name) + ": [")
                for number, row in enumerate(_rows(section)):
                    record = {field: _json_value(value) for field, value in zip(section.fields, row, strict=True)}
                    text.write(("," if number else "") + "\n" + json.dumps(record, default=str))
                text.write("]")
            text.write("}}\n")
            text.flush()
            text.detach()
    return counts


def archive_build(*, sections: list[Section], about: dict):
    """The archive in a temporary file (on disk past a few MB), rewound; the caller closes it."""
    fileobj = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    counts = archive_write(fileobj=fileobj, sections=sections, about=about)
    fileobj.seek(0)
    return fileobj, counts
