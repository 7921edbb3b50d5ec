"""The benchmark's database: created and migrated if missing, emptied, then seeded with one business and its
subscribers through COPY.

The audience is realistic in the ways the send path looks at: E.164 numbers spread over ten US area codes (three
of them in states with a stricter window), each subscriber's quiet-hours profile made by quiet_hours.profile_for,
a few hundred subscribed numbers that are nevertheless on the business's own do-not-text list, opted-out numbers
with their STOP suppressions, tags, and the texts that made each subscriber.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

from accounts.models import Business
from nextalerts import quiet_hours
from nextalerts.phones import phone_hash
from subscribers.models import Keyword, SenderNumber, Tag

# NY, FL (08:00-20:00), Chicago, Dallas, Denver, SF, Seattle, MD (08:00-20:00), OK (08:00-20:00), Boston.
AREA_CODES = ("212", "305", "312", "214", "303", "415", "206", "410", "405", "617")
# Central-office codes a real number can have: no N11 service codes, no 555.
EXCHANGES = tuple(x for x in range(201, 1000) if x % 100 != 11 and x != 555)

SENDER = "+12025550100"
BODY = "Tony's Pizza: 2-for-1 large pies tonight only. Show this text at the counter. Reply STOP to opt out"


@dataclass
class World:
    business: Business
    number: SenderNumber
    audience: int  # subscribed subscribers: the campaign's audience
    expected_messages: int  # the audience less the subscribed numbers that are on the do-not-text list
    profiles: dict  # area code -> quiet-hours profile


def daytime_instant(now: datetime | None = None) -> datetime:
    """18:00 UTC today: 13:00 in New York (14:00 in summer), 10:00 (11:00) in California — inside every
    subscriber's window, so the fan-out gives every message send_after NULL and sends need not wait."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(hour=18, minute=0, second=0, microsecond=0)


def phone(i: int) -> str:
    npa = AREA_CODES[i % len(AREA_CODES)]
    n = i // len(AREA_CODES)
    return f"+1{npa}{EXCHANGES[n // 10_000]:03d}{n % 10_000:04d}"


def conninfo() -> str:
    db = settings.DATABASES["default"]
    parts = {"dbname": db["NAME"], "user": db.get("USER"), "password": db.get("PASSWORD")}
    parts.update(host=db.get("HOST") or "127.0.0.1", port=db.get("PORT") or 5432)
    return make_conninfo(**{k: v for k, v in parts.items() if v not in (None, "")})


def create_database_if_missing() -> bool:
    db = settings.DATABASES["default"]
    maintenance = make_conninfo(conninfo(), dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    return True


def reset_database() -> None:
    """Migrate, then empty every table the product's models own (content types and permissions stay)."""
    call_command("migrate", interactive=False, verbosity=0)
    keep = ("django_content_type", "auth_permission", "auth_group", "auth_group_permissions")
    tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t not in keep]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(*, audience: int, suppressed_subscribed: int, opted_out: int) -> World:
    business = Business.objects.create(
        name="Tony's Pizza (bench)", slug="bench-tonys-pizza", support_contact="help@example.com",
        time_zone="America/New_York",
    )  # fmt: skip
    # Fast enough never to be what limits a send: the benchmark measures the pipeline, not the pacing.
    number = SenderNumber.objects.create(business=business, phone_number=SENDER, messages_per_second=1_000_000)
    Keyword.objects.create(business=business, number=number, keyword="PIZZA")
    vip, downtown = (Tag.objects.create(business=business, name=name) for name in ("vip", "downtown"))
    profiles = {npa: quiet_hours.profile_for(f"+1{npa}2010000", fallback_tz=business.time_zone) for npa in AREA_CODES}

    joined = datetime.now(UTC) - timedelta(days=30)
    total = audience + opted_out
    rows, suppressions = [], []
    for i in range(total):
        e164 = phone(i)
        digest = phone_hash(e164)
        subscribed = i < audience
        rows.append((
            business.pk, e164, digest, "subscribed" if subscribed else "unsubscribed", "keyword",
            joined, None if subscribed else joined + timedelta(days=1), number.pk, profiles[e164[2:5]],
            "", "", "", joined, joined,
        ))  # fmt: skip
        if not subscribed:
            suppressions.append((business.pk, digest, e164, "stop", joined))
        elif i % (audience // suppressed_subscribed) == 0 and len(suppressions) < suppressed_subscribed:
            # Subscribed, yet on the business's own list (an opt-in does not lift a manual entry): no message.
            suppressions.append((business.pk, digest, e164, "manual", joined))
    manual = sum(1 for s in suppressions if s[3] == "manual")

    raw = connection.connection  # Django's psycopg 3 connection
    with raw.cursor() as cursor:
        _copy(cursor, "subscribers_subscriber", (
            "business_id", "phone_number", "phone_hash", "status", "opt_in_method", "opted_in_at", "opted_out_at",
            "number_id", "quiet_profile", "name", "email", "notes", "created_at", "updated_at",
        ), rows)  # fmt: skip
        _copy(cursor, "consent_suppression", ("business_id", "phone_hash", "phone_number", "reason", "created_at"),
              suppressions)  # fmt: skip
        ids = [r[0] for r in cursor.execute("SELECT id FROM subscribers_subscriber ORDER BY id").fetchall()]
        tags = [(sid, vip.pk) for sid in ids[::10]] + [(sid, downtown.pk) for sid in ids[3::20]]
        _copy(cursor, "subscribers_subscriber_tags", ("subscriber_id", "tag_id"), tags)
        _history(cursor, business.pk, number.pk)
    if not raw.autocommit:
        raw.commit()
    vacuum_analyze()
    return World(business, number, audience, audience - manual, profiles)


def _history(cursor, business_id: int, number_id: int) -> None:
    """The messages that made each subscriber: the keyword text and its confirmation (and for those who left, their
    STOP and its confirmation), as every subscriber has them. They are also what the planner's statistics on
    campaigns_message see before the first launch."""
    columns = (
        "business_id, direction, kind, sender_number_id, phone_number, phone_hash, body, status, provider_message_id, "
        "error_code, error_detail, attempts, cost_currency, created_at, updated_at, sent_at, delivered_at"
    )
    steps = (
        ("inbound", "inbound", "PIZZA", "received", "s.opted_in_at", "TRUE"),
        ("outbound", "opt_in_confirmation", "You're subscribed", "delivered", "s.opted_in_at", "TRUE"),
        ("inbound", "inbound", "STOP", "received", "s.opted_out_at", "s.status = 'unsubscribed'"),
        ("outbound", "opt_out_confirmation", "You're unsubscribed", "delivered", "s.opted_out_at",
         "s.status = 'unsubscribed'"),
    )  # fmt: skip
    for n, (direction, kind, body, status, at, which) in enumerate(steps):
        sent = "NULL" if direction == "inbound" else at
        cursor.execute(
            f"INSERT INTO campaigns_message ({columns}) SELECT s.business_id, %s, %s, %s, s.phone_number, "
            f"s.phone_hash, %s, %s, 'bench-{n}-' || s.id, '', '', %s, '', {at}, {at}, {sent}, {sent} "
            f"FROM subscribers_subscriber s WHERE s.business_id = %s AND {which}",
            [direction, kind, number_id, body, status, 0 if direction == "inbound" else 1, business_id],
        )


def vacuum_analyze(*tables: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}" if tables else "VACUUM ANALYZE")
