"""Data archives: a zip holding everything as one JSON file plus one CSV per table, written row by row.

Rows are read with `.iterator()` and written straight into the zip member, so a business with a million messages
is exported in bounded memory (the zip itself goes to a temporary file, not to RAM).
"""

import csv
import io
import itertools
import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from accounts.models import ApiToken, Business, Invitation, Membership
from campaigns.models import Campaign
from campaigns.selectors import campaign_opt_outs
from consent.models import ConsentEvent, Suppression
from messaging.models import Message
from nextalerts.csvcells import safe_cell
from subscribers.models import Keyword, SenderNumber, Subscriber
from tracking.models import Click, QRCode, Scan

CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Section:
    """One table of an archive: its name (the CSV's file name and the JSON key), its rows and their columns."""

    name: str
    queryset: QuerySet
    fields: tuple[str, ...]
    # Columns computed for a chunk of rows at once (a subscriber's tags, a campaign's opt-outs): the column's name ->
    # a function from the rows' ids to {id: value}. The section's fields must include "id".
    extra: dict[str, Callable[[list[int]], dict]] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.fields + tuple(self.extra)


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
            "invitations",
            Invitation.objects.filter(business_id=bid).order_by("id"),
            ("id", "email", "role", "invited_by__email", "created_at", "expires_at", "accepted_at"),
        ),
        Section(
            # What the tokens page lists; the token itself is stored only as a digest and never leaves.
            "api_tokens",
            ApiToken.objects.filter(business_id=bid)
            .annotate(starts_with=Substr("token_key", 1, 8))
            .order_by("created"),
            ("name", "starts_with", "user__email", "created", "expiry"),
        ),
        Section(
            "numbers",
            SenderNumber.objects.filter(business_id=bid).order_by("id"),
            ("id", "phone_number", "messaging_profile_id", "messages_per_second", "created_at"),
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
                "number__phone_number",
                "name",
                "email",
                "notes",
                "created_at",
                "updated_at",
            ),
            extra={"tags": _subscriber_tags},
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
            Campaign.objects.filter(business_id=bid).annotate(**_campaign_counts()).order_by("id"),
            (
                "id",
                "name",
                "body",
                "media_urls",
                "sender_number__phone_number",
                "track_links",
                "status",
                "status_detail",
                "send_at",
                "created_by__email",
                "created_at",
                "launched_at",
                "completed_at",
                "audience_size",
                "skipped_suppressed",
                "skipped_frequency",
                *_campaign_counts(),
            ),
            extra={"tags": _campaign_tags, "opt_outs": _campaign_opt_outs},
        ),  # fmt: skip
        Section(
            "messages",
            Message.objects.filter(business_id=bid).order_by("id"),
            _message_fields(),
        ),
        Section(
            "qr_codes",
            QRCode.objects.filter(business_id=bid).annotate(scan_count=_count(Scan, "qr_code")).order_by("id"),
            (
                "id",
                "label",
                "slug",
                "ref",
                "keyword__keyword",
                "number__phone_number",
                "is_active",
                "created_at",
                "scan_count",
            ),
            extra={"opt_ins": _qr_code_opt_ins},
        ),  # fmt: skip
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
                "id",
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
            extra={"tags": _subscriber_tags},
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


def _count(model, to: str, **where):
    """How many `model` rows point at the outer row through `to` (and match `where`), as a subquery: no join that
    would multiply the outer rows."""
    rows = model.objects.filter(**{to: OuterRef("pk")}, **where).order_by().values(to).annotate(n=Count("pk"))
    return Coalesce(Subquery(rows.values("n")), 0, output_field=IntegerField())


def _campaign_counts() -> dict:
    """The figures the campaign pages show (campaigns.selectors.campaign_stats), one column each."""
    status = Message.Status
    return {
        "recipients": _count(Message, "campaign"),
        "sent": _count(Message, "campaign", status__in=[status.SENT, status.DELIVERED, status.DELIVERY_UNCONFIRMED]),
        "delivered": _count(Message, "campaign", status=status.DELIVERED),
        "failed": _count(
            Message, "campaign", status__in=[status.FAILED, status.SENDING_FAILED, status.DELIVERY_FAILED]
        ),
        "blocked": _count(Message, "campaign", status=status.BLOCKED),
        "click_count": _count(Click, "campaign", is_preview=False),
    }


def _through_names(through, owner: str, value: str, ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    pairs = through.objects.filter(**{f"{owner}__in": ids}).order_by(owner, value).values_list(owner, value)
    for owner_id, name in pairs:
        names.setdefault(owner_id, []).append(name)
    return names


def _subscriber_tags(ids: list[int]) -> dict[int, list[str]]:
    return _through_names(Subscriber.tags.through, "subscriber_id", "tag__name", ids)


def _campaign_tags(ids: list[int]) -> dict[int, list[str]]:
    return _through_names(Campaign.tags.through, "campaign_id", "tag__name", ids)


def _campaign_opt_outs(ids: list[int]) -> dict[int, int]:
    campaigns = Campaign.objects.filter(pk__in=ids).only("pk", "business_id", "launched_at")
    counts = campaign_opt_outs(campaigns=campaigns)
    return {pk: counts.get(pk, 0) for pk in ids}


def _qr_code_opt_ins(ids: list[int]) -> dict[int, int]:
    rows = Subscriber.objects.filter(qr_code_id__in=ids).order_by().values("qr_code_id").annotate(n=Count("pk"))
    counts = {row["qr_code_id"]: row["n"] for row in rows}
    return {pk: counts.get(pk, 0) for pk in ids}


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
    """One cell, never a formula when a spreadsheet opens the file (a subscriber's name, a text's body, a tag)."""
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return safe_cell(", ".join(value))  # tags, media addresses: one cell, as in the subscribers page's own CSV
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)  # starts with { or [: never a formula
    value = _json_value(value)
    return safe_cell(value) if isinstance(value, str) else value


def _rows(section: Section):
    rows = section.queryset.values_list(*section.fields).iterator(chunk_size=CHUNK_SIZE)
    if not section.extra:
        yield from rows
        return
    at = section.fields.index("id")
    while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
        ids = [row[at] for row in chunk]
        extras = [compute(ids) for compute in section.extra.values()]
        for row in chunk:
            yield (*row, *(values.get(row[at], []) for values in extras))


def archive_write(*, fileobj, sections: list[Section], about: dict) -> dict[str, int]:
    """Write the zip into `fileobj`: data.json (everything) and <section>.csv for each table. Returns row counts."""
    counts: dict[str, int] = {}
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            with archive.open(f"{section.name}.csv", "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(section.columns)
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
                    record = {name: _json_value(value) for name, value in zip(section.columns, row, strict=True)}
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
