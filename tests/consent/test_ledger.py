"""The consent ledger: append-only in the model layer and (on PostgreSQL) in the database, and hash-chained so that
`verify_consent_ledger` finds any edited, removed or re-linked row."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from consent.models import AppendOnlyError, ConsentEvent
from consent.selectors import ledger_verify
from consent.services import consent_event_record
from nextalerts.phones import phone_hash

CONSUMER = "+12025550143"


def _record(business, kind="opt_in", **evidence):
    return consent_event_record(
        business=business, phone=CONSUMER, kind=kind, method="keyword", evidence=evidence or {"inbound_text": "JOIN"}
    )


@pytest.fixture
def ledger(tenant_a, tenant_b):
    events = [_record(tenant_a.business), _record(tenant_a.business, "opt_out"), _record(tenant_b.business)]
    events.append(_record(tenant_a.business, "opt_in", inbound_text="START"))
    return events


def _tamper(sql, params):
    """Change a row behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # bypass the append-only trigger
        cursor.execute(sql, params)


def test_each_business_has_its_own_chain(ledger, tenant_a, tenant_b):
    a = list(ConsentEvent.objects.filter(business=tenant_a.business))
    b = list(ConsentEvent.objects.filter(business=tenant_b.business))
    assert [e.sequence for e in a] == [1, 2, 3] and [e.sequence for e in b] == [1]
    assert a[0].prev_hash == b[0].prev_hash == ConsentEvent.GENESIS
    assert a[1].prev_hash == a[0].row_hash and a[2].prev_hash == a[1].row_hash
    assert ledger_verify() == []


def test_an_event_recorded_at_a_local_time_still_verifies(tenant_a):
    """A time given in another zone is the same instant; the hash must not depend on the zone it was written in."""
    new_york = datetime(2026, 7, 4, 12, 30, 15, 250000, tzinfo=ZoneInfo("America/New_York"))
    event = consent_event_record(
        business=tenant_a.business, phone=CONSUMER, kind="opt_in", method="keyword", evidence={"inbound_text": "JOIN"},
        occurred_at=new_york,
    )  # fmt: skip
    event.refresh_from_db()
    assert event.occurred_at == new_york
    assert ledger_verify() == []


def test_events_store_the_keyed_phone_hash(ledger):
    assert ledger[0].phone_hash == phone_hash(CONSUMER) != CONSUMER


def test_model_layer_refuses_update_and_delete(ledger):
    event = ConsentEvent.objects.first()
    event.kind = "opt_out"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(pk=event.pk).update(kind="opt_out")
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.all().delete()
    assert ConsentEvent.objects.count() == len(ledger)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only")
def test_database_refuses_update_and_delete(ledger):
    for sql in (
        "UPDATE consent_consentevent SET kind = 'opt_out' WHERE id = %s",
        "DELETE FROM consent_consentevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [ledger[0].pk])
    assert ConsentEvent.objects.count() == len(ledger)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger exists on PostgreSQL only")
def test_database_allows_only_erasing_the_phone_number(ledger):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE consent_consentevent SET phone_number = '' WHERE id = %s", [ledger[0].pk])
    assert ConsentEvent.objects.get(pk=ledger[0].pk).phone_number == ""
    assert ledger_verify() == []  # the chain covers the phone hash, not the erasable number


def test_an_edited_row_is_detected(ledger, tenant_a):
    _tamper("UPDATE consent_consentevent SET kind = 'opt_in' WHERE id = %s", [ledger[1].pk])
    breaks = ledger_verify()
    assert [(b.business_id, b.sequence) for b in breaks] == [(tenant_a.business.pk, 2)]
    assert "edited" in breaks[0].problem


def test_edited_evidence_is_detected(ledger):
    _tamper("UPDATE consent_consentevent SET evidence = %s WHERE id = %s", ['{"inbound_text": "HELP"}', ledger[0].pk])
    assert [b.sequence for b in ledger_verify()] == [1]


def test_a_removed_row_is_detected(ledger):
    _tamper("DELETE FROM consent_consentevent WHERE id = %s", [ledger[1].pk])
    problems = {b.problem for b in ledger_verify()}
    assert any("missing" in p for p in problems)
    assert any("link" in p for p in problems)


def test_a_rehashed_row_breaks_the_link_to_the_next(ledger):
    """Someone edits a row and recomputes its own hash: the next row no longer links to it."""
    event = ConsentEvent.objects.get(pk=ledger[0].pk)
    event.evidence = {"inbound_text": "forged"}
    _tamper(
        "UPDATE consent_consentevent SET evidence = %s, row_hash = %s WHERE id = %s",
        ['{"inbound_text": "forged"}', event.compute_hash(), event.pk],
    )
    breaks = ledger_verify()
    assert [b.sequence for b in breaks] == [2]
    assert "link" in breaks[0].problem


def test_verify_command_reports_intact_and_broken_ledgers(ledger, capsys):
    call_command("verify_consent_ledger")
    assert "intact: 4 events verified" in capsys.readouterr().out
    _tamper("UPDATE consent_consentevent SET method = 'admin' WHERE id = %s", [ledger[3].pk])
    with pytest.raises(CommandError, match="1 break"):
        call_command("verify_consent_ledger")
    assert "event #3" in capsys.readouterr().err


def test_verify_command_can_check_one_business(ledger, tenant_b, capsys):
    _tamper("UPDATE consent_consentevent SET method = 'admin' WHERE id = %s", [ledger[0].pk])
    call_command("verify_consent_ledger", business=[tenant_b.business.pk])
    assert "intact: 1 event verified" in capsys.readouterr().out
