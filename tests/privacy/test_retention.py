"""Retention (privacy/retention.py): each rule just before and just after its period, the purge of a deleted
business, the dry run, the lock, and the ledger trigger's one allowed delete on PostgreSQL."""

import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction
from django.db.models.functions import Cast

from accounts.audit import audit_record
from accounts.models import ApiToken, AuditEvent, BillingWebhookEvent, Business, Invitation, Membership, User
from accounts.services import api_token_create
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats
from consent.models import AppendOnlyError, ConsentEvent, Suppression
from consent.policy import can_send
from consent.selectors import ledger_verify
from consent.services import consent_event_record
from messaging.models import Message, WebhookEvent
from nextalerts.phones import phone_hash
from privacy.models import DataRequest, DataRequestEvent
from privacy.retention import business_purge, retention_enforce
from privacy.tasks import LOCK_KEY, enforce_retention
from subscribers.models import Keyword, SenderNumber, Subscriber, Tag
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import text_in
from tracking.models import Click, QRCode, Scan
from web.webform import disclosure_for, web_form_sign_up

# Far enough in the past that every period, evidence included, has ended by the database's own (real) clock.
T0 = datetime(2019, 3, 4, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
CONSUMER = "+12025550143"
OPTED_OUT = "+12025550188"
OTHER_CONSUMER = "+13105550100"  # tenant_b's subscriber: never touched by tenant_a's purge
BOUNDARY = [pytest.param(-SECOND, True, id="just-before"), pytest.param(SECOND, False, id="just-after")]
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only"
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def run_at(moment, **kwargs):
    with time_machine.travel(moment, tick=False):
        return retention_enforce(**kwargs)


def days(n):
    return timedelta(days=n)


def _message(business, *, phone=CONSUMER, campaign=None):
    return Message.objects.create(
        business=business,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.MARKETING,
        phone_number=phone,
        phone_hash=phone_hash(phone),
        body="20% off today",
        status=Message.Status.DELIVERED,
        campaign=campaign,
    )


def _campaign(business):
    return Campaign.objects.create(business=business, name="Spring", body="20% off", status=Campaign.Status.SENT)


def _webhook_event(event_id, *, outcome="message", business=None):
    return WebhookEvent.objects.create(
        provider="telnyx",
        event_id=event_id,
        event_type="message.received",
        payload={"data": {"payload": {"from": {"phone_number": CONSUMER}}}},
        outcome=outcome,
        business=business,
    )


def _archive(business, *, completed_at):
    request = DataRequest.objects.create(
        kind=DataRequest.Kind.ACCESS,
        subject=DataRequest.Subject.BUSINESS,
        status=DataRequest.Status.COMPLETED,
        business=business,
        completed_at=completed_at,
    )
    request.archive.save("export.zip", ContentFile(b"PK..."), save=True)
    return request


def _delete_business(business, *, at):
    Business.objects.filter(pk=business.pk).update(status=Business.Status.DELETED, deletion_requested_at=at)
    business.refresh_from_db()


def _purged_business(tenant, *, purged_at):
    """A business purged at `purged_at`, holding a ledger and a suppression."""
    with time_machine.travel(purged_at - days(31), tick=False):
        text_in(from_number=OPTED_OUT, to_number=tenant.number.phone_number, text="JOIN")
        text_in(from_number=OPTED_OUT, to_number=tenant.number.phone_number, text="STOP")
        _delete_business(tenant.business, at=purged_at - days(31))
    with time_machine.travel(purged_at, tick=False):
        business_purge(business=tenant.business)
    return tenant.business


# --- Messages, webhook events, audit log, archives ----------------------------------------------------------------


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_messages_go_after_the_period_with_their_link_clicks(tenant_a, settings, offset, kept):
    with time_machine.travel(T0, tick=False):
        campaign = _campaign(tenant_a.business)
        message = _message(tenant_a.business, campaign=campaign)
        click = Click.objects.create(
            business=tenant_a.business, campaign=campaign, message=message, url="https://example.com/"
        )
    with time_machine.travel(T0 + days(200), tick=False):
        recent = _message(tenant_a.business, campaign=campaign)

    counts = run_at(T0 + days(settings.RETENTION_MESSAGE_DAYS) + offset)

    assert Message.objects.filter(pk=message.pk).exists() is kept
    assert Click.objects.filter(pk=click.pk).exists() is kept
    assert Message.objects.filter(pk=recent.pk).exists()
    assert (counts["messages"], counts["link_clicks"]) == ((0, 0) if kept else (1, 1))
    # The campaign stays; its figures are recounted from the texts that are left.
    assert campaign_stats(campaign=campaign)["recipients"] == (2 if kept else 1)


def test_messages_are_deleted_in_chunks(tenant_a, settings, monkeypatch):
    monkeypatch.setattr("privacy.retention.BATCH_SIZE", 2)
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            _message(tenant_a.business)
    assert run_at(T0 + days(settings.RETENTION_MESSAGE_DAYS + 1))["messages"] == 5
    assert not Message.objects.exists()


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_webhook_events_go_after_the_period_but_never_a_pending_one(tenant_a, settings, offset, kept):
    with time_machine.travel(T0, tick=False):
        handled = _webhook_event("evt-handled", business=tenant_a.business)
        ignored = _webhook_event("evt-ignored", outcome="ignored")
        pending = _webhook_event("evt-pending", outcome="pending")

    counts = run_at(T0 + days(settings.RETENTION_WEBHOOK_DAYS) + offset)

    assert WebhookEvent.objects.filter(pk__in=[handled.pk, ignored.pk]).count() == (2 if kept else 0)
    assert WebhookEvent.objects.filter(pk=pending.pk).exists()
    assert counts["webhook_events"] == (0 if kept else 2)


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_stripe_events_go_after_the_webhook_period(tenant_a, settings, offset, kept):
    with time_machine.travel(T0, tick=False):
        event = BillingWebhookEvent.objects.create(
            provider="stripe", event_id="evt_1", event_type="invoice.paid", payload={}, business=tenant_a.business
        )

    counts = run_at(T0 + days(settings.RETENTION_WEBHOOK_DAYS) + offset)

    assert BillingWebhookEvent.objects.filter(pk=event.pk).exists() == kept
    assert counts["billing_webhook_events"] == (0 if kept else 1)


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_audit_events_go_after_the_period(tenant_a, settings, offset, kept):
    with time_machine.travel(T0, tick=False):
        event = audit_record(action=AuditEvent.Action.LOGIN, actor=tenant_a.owner.user, business=tenant_a.business)

    counts = run_at(T0 + days(settings.RETENTION_AUDIT_DAYS) + offset)

    assert AuditEvent.objects.filter(pk=event.pk).exists() is kept
    assert counts["audit_events"] == (0 if kept else 1)


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_archives_are_deleted_when_their_download_window_ends(tenant_a, offset, kept):
    request = _archive(tenant_a.business, completed_at=T0)
    path = request.archive.path

    counts = run_at(T0 + days(30) + offset)

    request.refresh_from_db()
    assert bool(request.archive) is kept
    assert os.path.exists(path) is kept
    assert counts["archives"] == (0 if kept else 1)
    assert DataRequestEvent.objects.filter(request=request, action="archive_deleted").exists() is not kept


def test_each_period_is_a_setting(tenant_a, settings):
    settings.RETENTION_MESSAGE_DAYS = 10
    settings.RETENTION_ARCHIVE_DAYS = 3
    with time_machine.travel(T0, tick=False):
        message = _message(tenant_a.business)
    request = _archive(tenant_a.business, completed_at=T0)
    counts = run_at(T0 + days(10) + SECOND)
    assert counts["messages"] == counts["archives"] == 1
    assert not Message.objects.filter(pk=message.pk).exists()
    request.refresh_from_db()
    assert not request.archive


# --- Deleted businesses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_a_deleted_business_is_purged_after_its_grace_period(tenant_a, settings, offset, kept):
    with time_machine.travel(T0, tick=False):
        text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
        _delete_business(tenant_a.business, at=T0)

    counts = run_at(T0 + days(settings.RETENTION_DELETED_BUSINESS_DAYS) + offset)

    tenant_a.business.refresh_from_db()
    assert (tenant_a.business.purged_at is None) is kept
    assert Subscriber.objects.filter(business=tenant_a.business).exists() is kept
    assert counts["businesses_purged"] == (0 if kept else 1)


def test_an_active_or_cancelled_business_is_never_purged(tenant_a, tenant_b, settings):
    with time_machine.travel(T0, tick=False):
        text_in(from_number=CONSUMER, to_number=tenant_a.number.phone_number, text="JOIN")
    # A cancelled deletion leaves the date behind but the business active.
    Business.objects.filter(pk=tenant_a.business.pk).update(deletion_requested_at=T0)
    Business.objects.filter(pk=tenant_b.business.pk).update(status=Business.Status.SUSPENDED)
    assert run_at(T0 + days(400))["businesses_purged"] == 0
    assert Subscriber.objects.filter(business=tenant_a.business).exists()
    with pytest.raises(ValueError, match="not deleted"):
        business_purge(business=tenant_a.business, now=T0 + days(400))


def _mentions(digits: str) -> list[str]:
    """Every table and column, in the whole database, whose text holds these digits."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                continue
            rows = model._base_manager.annotate(as_text=Cast(field.name, models.TextField()))
            if rows.filter(as_text__contains=digits).exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


@pytest.fixture
def busy_tenant(tenant_a, tenant_b):
    """tenant_a with a little of everything it can hold, deleted at T0; tenant_b with a subscriber of its own."""
    a, number = tenant_a.business, tenant_a.number.phone_number
    with time_machine.travel(T0 - days(10), tick=False):
        text_in(from_number=CONSUMER, to_number=number, text="JOIN")
        text_in(from_number=CONSUMER, to_number=number, text="Are you open on Sunday?")
        text_in(from_number=OPTED_OUT, to_number=number, text="JOIN")
        text_in(from_number=OPTED_OUT, to_number=number, text="STOP")
        text_in(from_number=OTHER_CONSUMER, to_number=tenant_b.number.phone_number, text="JOIN")
        tag = Tag.objects.create(business=a, name="VIP")
        Subscriber.objects.get(business=a, phone_number=CONSUMER).tags.add(tag)
        campaign = _campaign(a)
        campaign.tags.add(tag)
        message = _message(a, campaign=campaign)
        Click.objects.create(business=a, campaign=campaign, message=message, url="https://example.com/")
        qr = QRCode.objects.create(business=a, number=tenant_a.number, keyword=tenant_a.keyword, label="door")
        Scan.objects.create(business=a, qr_code=qr, device_type=Scan.Device.MOBILE, ip="203.0.113.9")
        api_token_create(user=tenant_a.owner.user, business=a)
        Invitation.objects.create(
            business=a, email="new@example.com", token_hash="x" * 64, expires_at=T0, invited_by=tenant_a.owner.user
        )
        subscriber = Subscriber.objects.get(business=a, phone_number=CONSUMER)
        LogEntry.objects.log_actions(
            user_id=tenant_a.admin.user.pk, queryset=[subscriber], action_flag=CHANGE, change_message="notes"
        )
        _archive(a, completed_at=T0 - days(1))
        DataRequest.objects.create(
            kind=DataRequest.Kind.ACCESS,
            subject=DataRequest.Subject.PHONE,
            business=a,
            phone_number=CONSUMER,
            phone_hash=phone_hash(CONSUMER),
        )
        deletion = DataRequest.objects.create(
            kind=DataRequest.Kind.DELETION,
            subject=DataRequest.Subject.BUSINESS,
            status=DataRequest.Status.SCHEDULED,
            business=a,
            requested_by=tenant_a.owner.user,
        )
    # The admin also works for tenant_b; a platform staff member was added to help.
    MembershipFactory(user=tenant_a.admin.user, business=tenant_b.business)
    MembershipFactory(user=UserFactory(email="staff@example.com", is_staff=True), business=a)
    Business.objects.filter(pk=a.pk).update(deletion_requested_by=tenant_a.owner.user, address="1 Main St")
    _delete_business(a, at=T0)
    tenant_a.deletion_request = deletion
    return tenant_a


def test_a_purge_leaves_no_phone_number_anywhere_but_keeps_the_pseudonymised_ledger(busy_tenant, tenant_b, settings):
    a = busy_tenant.business
    events_before = ConsentEvent.objects.filter(business=a).count()
    assert CONSUMER in " ".join(Subscriber.objects.values_list("phone_number", flat=True))
    assert "subscribers_subscriber.phone_number" in _mentions(CONSUMER[2:])  # the scan does find numbers
    now = T0 + days(settings.RETENTION_DELETED_BUSINESS_DAYS) + SECOND

    counts = run_at(now)

    assert counts["businesses_purged"] == 1
    assert _mentions(CONSUMER[2:]) == [] and _mentions(OPTED_OUT[2:]) == []
    for model in (Subscriber, Message, Click, Scan, QRCode, Keyword, SenderNumber, Tag, Campaign, Membership,
                  ApiToken, Invitation, WebhookEvent, BillingWebhookEvent):  # fmt: skip
        assert not model.objects.filter(business=a).exists(), model
    # The ledger and the suppression stay, with the number erased and the keyed hash kept.
    assert ConsentEvent.objects.filter(business=a).count() == events_before
    assert set(ConsentEvent.objects.filter(business=a).values_list("phone_number", flat=True)) == {""}
    suppression = Suppression.objects.get(business=a)
    assert (suppression.phone_number, suppression.phone_hash) == ("", phone_hash(OPTED_OUT))
    assert ledger_verify(business_ids=[a.pk]) == []
    # Users who belonged to no other business are gone; the others, and platform staff, keep their accounts.
    assert not User.objects.filter(pk=busy_tenant.owner.user.pk).exists()
    assert not User.objects.filter(pk=busy_tenant.member.user.pk).exists()
    assert User.objects.filter(pk=busy_tenant.admin.user.pk).exists()
    assert User.objects.filter(email="staff@example.com").exists()
    # The tombstone: the name, the dates, nothing else.
    a.refresh_from_db()
    assert (a.name, a.purged_at, a.address, a.deletion_requested_by) == ("Tony's Pizza", now, "", None)
    assert not DataRequest.objects.filter(business=a).exclude(archive="").exists()
    busy_tenant.deletion_request.refresh_from_db()
    assert busy_tenant.deletion_request.status == DataRequest.Status.COMPLETED
    assert busy_tenant.deletion_request.events.filter(action="purged").exists()
    purged = AuditEvent.objects.get(action=AuditEvent.Action.BUSINESS_PURGED)
    assert purged.business == a and purged.details["messaging.message"] >= 1
    # The other business is untouched.
    assert Subscriber.objects.filter(business=tenant_b.business, phone_number=OTHER_CONSUMER).exists()
    assert Membership.objects.filter(business=tenant_b.business).count() == 4


def test_a_purged_business_still_blocks_its_opted_out_numbers(busy_tenant, settings):
    a = busy_tenant.business
    run_at(T0 + days(settings.RETENTION_DELETED_BUSINESS_DAYS + 1))
    # Were it ever reactivated, a number that texted STOP is still refused, recognised by its keyed hash.
    Business.objects.filter(pk=a.pk).update(status=Business.Status.ACTIVE)
    a.refresh_from_db()
    for kind in ("marketing", "conversation", "help_reply"):
        decision = can_send(a, OPTED_OUT, kind)
        assert not decision and "suppressed" in decision.reason


def test_a_purge_is_safe_to_run_again(busy_tenant, settings):
    now = T0 + days(settings.RETENTION_DELETED_BUSINESS_DAYS + 1)
    run_at(now)
    again = run_at(now + days(1))
    assert again["businesses_purged"] == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.BUSINESS_PURGED).count() == 1
    assert ledger_verify(business_ids=[busy_tenant.business.pk]) == []


def test_web_form_evidence_holds_no_phone_number_after_a_purge(tenant_a, settings):
    a = tenant_a.business
    with time_machine.travel(T0 - days(5), tick=False):
        web_form_sign_up(
            business=a,
            number=tenant_a.number,
            phone=CONSUMER,
            disclosure=disclosure_for(business=a),
            ip="203.0.113.9",
            user_agent="Mozilla/5.0",
            form_url="https://example.com/join",
        )
    _delete_business(a, at=T0)
    run_at(T0 + days(settings.RETENTION_DELETED_BUSINESS_DAYS + 1))
    assert _mentions("555-0143") == []


# --- The end of the evidence period -------------------------------------------------------------------------------


@pytest.mark.parametrize("offset, kept", BOUNDARY)
def test_a_purged_business_is_forgotten_when_its_evidence_period_ends(tenant_a, tenant_b, settings, offset, kept):
    business = _purged_business(tenant_a, purged_at=T0)
    with time_machine.travel(T0, tick=False):
        text_in(from_number=OPTED_OUT, to_number=tenant_b.number.phone_number, text="STOP")

    counts = run_at(T0 + days(settings.RETENTION_CONSENT_EVIDENCE_DAYS) + offset)

    assert Business.objects.filter(pk=business.pk).exists() is kept
    assert ConsentEvent.objects.filter(business_id=business.pk).exists() is kept
    assert Suppression.objects.filter(business_id=business.pk).exists() is kept
    assert counts["evidence_expired"] == (0 if kept else 1)
    # Another business's ledger and suppressions are never touched.
    assert Suppression.objects.filter(business=tenant_b.business).exists()
    assert ledger_verify() == []


def test_the_model_layer_deletes_only_an_expired_ledger(tenant_a, tenant_b, settings):
    _purged_business(tenant_a, purged_at=T0)
    consent_event_record(business=tenant_b.business, phone=CONSUMER, kind="opt_in", method="keyword", evidence={})
    evidence_days = settings.RETENTION_CONSENT_EVIDENCE_DAYS
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.all().delete_expired_evidence(evidence_days=evidence_days)
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(business=tenant_a.business).delete_expired_evidence(
            evidence_days=evidence_days, now=T0 + days(evidence_days)
        )
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(business=tenant_a.business).delete()
    assert ConsentEvent.objects.count() == 3


@on_postgresql
def test_the_database_refuses_to_delete_a_ledger_whose_evidence_period_is_not_over(tenant_a, tenant_b, settings):
    evidence_days = settings.RETENTION_CONSENT_EVIDENCE_DAYS
    expired = _purged_business(tenant_a, purged_at=T0)  # purged years ago by the database's clock
    recent = tenant_b.business
    consent_event_record(business=recent, phone=CONSUMER, kind="opt_in", method="keyword", evidence={})
    Business.objects.filter(pk=recent.pk).update(
        status=Business.Status.DELETED, purged_at=datetime.now(UTC) - days(evidence_days - 1)
    )

    def raw_delete(business, setting):
        with transaction.atomic(), connection.cursor() as cursor:
            if setting is not None:
                cursor.execute("SELECT set_config('nextalerts.ledger_expiry_days', %s, true)", [setting])
            cursor.execute("DELETE FROM consent_consentevent WHERE business_id = %s", [business.pk])

    for business, setting in ((expired, None), (expired, "on"), (expired, "0"), (recent, str(evidence_days))):
        with pytest.raises(DatabaseError, match="append-only"):
            raw_delete(business, setting)
    # The setting lasts for its own transaction only.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE consent_consentevent SET kind = 'opt_out' WHERE business_id = %s", [expired.pk])
    assert ConsentEvent.objects.filter(business=expired).count() == 2

    Suppression.objects.filter(business=expired).delete()
    raw_delete(expired, str(evidence_days))
    assert not ConsentEvent.objects.filter(business=expired).exists()
    assert ConsentEvent.objects.filter(business=recent).count() == 1


@on_postgresql
def test_the_job_deletes_an_expired_ledger_through_the_trigger(tenant_a, settings):
    business = _purged_business(tenant_a, purged_at=T0)
    counts = retention_enforce(now=T0 + days(settings.RETENTION_CONSENT_EVIDENCE_DAYS) + SECOND)
    assert counts["evidence_expired"] == 1
    assert not Business.objects.filter(pk=business.pk).exists()


# --- The dry run, the command, the lock ---------------------------------------------------------------------------


def _due_everywhere(tenant_a, tenant_b):
    """One of everything due at T0 + 2000 days, and the same not yet due."""
    _purged_business(tenant_b, purged_at=T0)
    with time_machine.travel(T0, tick=False):
        _message(tenant_a.business)
        _webhook_event("evt-old")
        _webhook_event("evt-pending", outcome="pending")
        audit_record(action=AuditEvent.Action.LOGIN, actor=tenant_a.owner.user)
    _archive(tenant_a.business, completed_at=T0)
    third = MembershipFactory(business__name="Closing Down").business
    _delete_business(third, at=T0)
    return T0 + days(2000)


def _table_sizes():
    return {
        model._meta.label: model._base_manager.count()
        for model in (Message, WebhookEvent, AuditEvent, Business, ConsentEvent, Suppression, User, Membership)
    } | {"archives": DataRequest.objects.exclude(archive="").count()}


def test_a_dry_run_deletes_nothing_and_reports_what_a_real_run_deletes(tenant_a, tenant_b):
    now = _due_everywhere(tenant_a, tenant_b)
    before = _table_sizes()

    dry = run_at(now, dry_run=True)

    assert _table_sizes() == before
    assert dry == {
        "messages": 1,
        "link_clicks": 0,
        "webhook_events": 1,
        "billing_webhook_events": 0,
        "audit_events": AuditEvent.objects.filter(occurred_at__lt=now - days(365)).count(),
        "archives": 1,
        "businesses_purged": 1,
        "evidence_expired": 1,
    }
    assert run_at(now) == dry
    assert set(run_at(now).values()) == {0}


def test_the_command_dry_run_prints_each_rule_with_its_count(tenant_a, tenant_b, capsys):
    now = _due_everywhere(tenant_a, tenant_b)
    before = _table_sizes()
    with time_machine.travel(now, tick=False):
        call_command("enforce_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "Would delete" in out
    assert "messages: 1 - texts sent and received" in out
    assert "businesses_purged: 1 - businesses deleted more than 30 days ago" in out
    assert "evidence_expired: 1" in out
    assert _table_sizes() == before

    with time_machine.travel(now, tick=False):
        call_command("enforce_retention")
    assert "Deleted:" in capsys.readouterr().out
    assert not Message.objects.exists()


def test_a_second_run_waits_while_one_holds_the_lock(tenant_a, settings):
    with time_machine.travel(T0, tick=False):
        message = _message(tenant_a.business)
    assert cache.add(LOCK_KEY, "a run in another worker", timeout=60)
    with time_machine.travel(T0 + days(settings.RETENTION_MESSAGE_DAYS + 1), tick=False):
        assert "skipped" in enforce_retention()
        with pytest.raises(CommandError, match="in progress"):
            call_command("enforce_retention")
        assert Message.objects.filter(pk=message.pk).exists()

        cache.delete(LOCK_KEY)
        assert enforce_retention()["messages"] == 1
    # A finished run releases the lock.
    assert cache.get(LOCK_KEY) is None


def test_the_task_is_registered_under_the_beat_entrys_name(settings):
    from nextalerts.celery import app

    assert settings.CELERY_BEAT_SCHEDULE["enforce-retention"]["task"] == "privacy.enforce_retention"
    assert "privacy.enforce_retention" in app.tasks
