"""Compliance pages: the consent record and its chain check, the do-not-text list, the evidence file."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from consent import replies
from consent.models import ConsentEvent, Suppression
from consent.services import consent_event_record, suppression_add_manual
from tests.helpers import text_in

LEDGER = "/app/compliance/"
VERIFY = "/app/compliance/verify/"
LIST = "/app/compliance/do-not-text/"
EVIDENCE = "/app/compliance/evidence/"
SHARED = "+12025550177"  # subscribed to both businesses


def _remove_url(pk):
    return f"/app/compliance/do-not-text/{pk}/remove/"


def _tamper(sql, params):
    """Change a row behind the application's back, as someone with database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.fixture
def both(tenant_a, tenant_b):
    """SHARED joined both businesses; tenant_b's conversation says things tenant_a must never see."""
    text_in(from_number=SHARED, to_number=tenant_a.number.phone_number, text="JOIN")
    text_in(from_number=SHARED, to_number=tenant_b.number.phone_number, text="JOIN")
    text_in(from_number=SHARED, to_number=tenant_b.number.phone_number, text="Is the open house still on?")
    text_in(from_number=SHARED, to_number=tenant_b.number.phone_number, text="STOP")
    return tenant_a, tenant_b


# --- The consent record -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.parametrize("url", [LEDGER, LIST, EVIDENCE])
def test_pages_render_for_every_role(client, tenant_a, role, url):
    client.force_login(getattr(tenant_a, role).user)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.count(b"<h1") == 1


def test_ledger_lists_this_business_only_newest_first(client, both):
    tenant_a, tenant_b = both
    text_in(from_number="+12025550188", to_number=tenant_a.number.phone_number, text="HELP")
    client.force_login(tenant_a.member.user)
    response = client.get(LEDGER)
    events = list(response.context["page"].object_list)
    assert [e.sequence for e in events] == [2, 1]
    assert all(e.business_id == tenant_a.business.pk for e in events)
    html = response.content.decode()
    assert "Asked for help" in html and "Joined" in html
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "Is the open house" not in html and "Opted out" not in table


def test_ledger_filters_by_phone_and_kind(client, tenant_a):
    a = tenant_a.number.phone_number
    text_in(from_number="+12025550111", to_number=a, text="JOIN")
    text_in(from_number="+12025550122", to_number=a, text="JOIN")
    text_in(from_number="+12025550122", to_number=a, text="STOP")
    client.force_login(tenant_a.member.user)
    by_phone = client.get(LEDGER, {"phone": "(202) 555-0122"}).context["page"].object_list
    assert {e.phone_number for e in by_phone} == {"+12025550122"} and len(by_phone) == 2
    by_kind = client.get(LEDGER, {"kind": "opt_out"}).context["page"].object_list
    assert [e.kind for e in by_kind] == ["opt_out"]


def test_ledger_filter_errors_are_shown_next_to_the_field(client, tenant_a):
    client.force_login(tenant_a.member.user)
    response = client.get(LEDGER, {"phone": "not a phone", "kind": "drop table"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_phone_error"' in html and "not a phone number we can read" in html
    assert 'id="id_kind_error"' in html and "Pick one of the listed choices" in html


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99999999999999999999999"},
        {"phone": "9" * 5000},
        {"phone": "+1" + "\u202e" * 30},
        {"kind": "x" * 3000},
        {"phone": "\x00"},
    ],
)
def test_garbage_never_fails(client, tenant_a, query):
    client.force_login(tenant_a.member.user)
    for url in (LEDGER, LIST, EVIDENCE):
        assert client.get(url, query).status_code == 200


def test_verify_shows_intact_chain(client, tenant_a, tenant_b):
    text_in(from_number="+12025550111", to_number=tenant_a.number.phone_number, text="JOIN")
    text_in(from_number="+12025550111", to_number=tenant_a.number.phone_number, text="STOP")
    text_in(from_number="+12025550111", to_number=tenant_b.number.phone_number, text="JOIN")
    client.force_login(tenant_a.member.user)
    assert "Not checked yet" in client.get(LEDGER).content.decode()
    response = client.post(VERIFY, follow=True)
    html = response.content.decode()
    assert "Verified: 2 events, chain intact" in html


def test_verify_shows_a_tampered_row(client, tenant_a):
    for text in ["JOIN", "HELP", "STOP"]:
        text_in(from_number="+12025550111", to_number=tenant_a.number.phone_number, text=text)
    second = ConsentEvent.objects.get(business=tenant_a.business, sequence=2)
    _tamper("UPDATE consent_consentevent SET kind = 'opt_in' WHERE id = %s", [second.pk])
    client.force_login(tenant_a.member.user)
    html = client.post(VERIFY, follow=True).content.decode()
    assert "chain intact" not in html
    assert "Entry #2: content does not match its hash" in html
    # The last result is remembered: the page shows it without walking the chain again.
    with CaptureQueriesContext(connection) as queries:
        assert "Entry #2" in client.get(LEDGER).content.decode()
    assert not any("sequence" in q["sql"] and "ORDER BY" in q["sql"] and "ASC" in q["sql"] for q in queries)


def test_verify_is_post_only(client, tenant_a):
    client.force_login(tenant_a.member.user)
    assert client.get(VERIFY).status_code == 405


def _events(tenant, n, offset):
    for i in range(n):
        consent_event_record(
            business=tenant.business, phone=f"+1202555{offset + i:04d}", kind="opt_in", method="keyword", evidence={}
        )


def _suppressions(tenant, n, offset):
    for i in range(n):
        suppression_add_manual(business=tenant.business, phone=f"+1202555{offset + i:04d}", user=None)


@pytest.mark.parametrize("url", [LEDGER, LIST])
def test_query_count_does_not_grow_with_rows(client, tenant_a, url):
    client.force_login(tenant_a.admin.user)
    _events(tenant_a, 3, 0)
    _suppressions(tenant_a, 3, 100)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _events(tenant_a, 30, 200)
    _suppressions(tenant_a, 30, 300)
    client.get(url)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


# --- The do-not-text list ---------------------------------------------------------------------------------------------


def test_list_shows_this_business_only(client, both):
    tenant_a, tenant_b = both
    suppression_add_manual(business=tenant_b.business, phone="+12025550199", user=None)
    suppression_add_manual(business=tenant_a.business, phone="+12025550155", user=None)
    client.force_login(tenant_a.member.user)
    response = client.get(LIST)
    html = response.content.decode()
    assert "(202) 555-0155" in html
    assert "(202) 555-0199" not in html and SHARED not in html
    # Members see the list and may add a number; removing one is an admin's.
    assert "Add a number" in html and "Remove" not in html  # a member adds; only an admin removes


def test_admin_adds_a_number(client, tenant_a):
    text_in(from_number="+12025550166", to_number=tenant_a.number.phone_number, text="JOIN")
    client.force_login(tenant_a.admin.user)
    response = client.post(LIST, {"add-phone": "(202) 555-0166"}, follow=True)
    assert "is on your do-not-text list" in response.content.decode()
    suppression = Suppression.objects.get(business=tenant_a.business)
    assert (suppression.phone_number, suppression.reason) == ("+12025550166", "manual")
    assert tenant_a.business.subscribers.get().status == "unsubscribed"
    again = client.post(LIST, {"add-phone": "+12025550166"}, follow=True)
    assert "already on your do-not-text list" in again.content.decode()
    assert Suppression.objects.filter(business=tenant_a.business).count() == 1


def test_a_member_may_add_a_number_as_in_the_api_but_not_remove_one(client, tenant_a):
    """Adding only ever stops texts; taking a number off the list needs an admin."""
    client.force_login(tenant_a.member.user)
    response = client.post(LIST, {"add-phone": "+12025550166"})
    assert response.status_code == 302
    suppression = Suppression.objects.get(business=tenant_a.business)
    assert "Remove" not in client.get(LIST).content.decode()
    assert client.post(f"/app/compliance/do-not-text/{suppression.pk}/remove/").status_code == 403
    assert Suppression.objects.filter(pk=suppression.pk).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "Enter a phone number."), ("banana", "not a phone number we can read"), ("1" * 41, "too long")],
)
def test_add_errors_are_shown_next_to_the_field(client, tenant_a, value, message):
    client.force_login(tenant_a.admin.user)
    response = client.post(LIST, {"add-phone": value})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_add-phone_error"' in html and message in html
    assert not Suppression.objects.exists()


def test_admin_removes_a_manual_entry_but_not_a_stop(client, tenant_a):
    manual = suppression_add_manual(business=tenant_a.business, phone="+12025550155", user=None)
    text_in(from_number="+12025550144", to_number=tenant_a.number.phone_number, text="STOP")
    stop = Suppression.objects.get(business=tenant_a.business, reason="stop")
    client.force_login(tenant_a.admin.user)
    response = client.post(_remove_url(stop.pk), follow=True)
    assert "only the consumer can lift it" in response.content.decode()
    assert Suppression.objects.filter(pk=stop.pk).exists()
    response = client.post(_remove_url(manual.pk), follow=True)
    assert "is off your do-not-text list" in response.content.decode()
    assert not Suppression.objects.filter(pk=manual.pk).exists()
    # Taking a number off the list never subscribes it.
    assert not tenant_a.business.subscribers.filter(status="subscribed").exists()


def test_member_cannot_remove(client, tenant_a):
    manual = suppression_add_manual(business=tenant_a.business, phone="+12025550155", user=None)
    client.force_login(tenant_a.member.user)
    assert client.post(_remove_url(manual.pk)).status_code == 403
    assert Suppression.objects.filter(pk=manual.pk).exists()


def test_removing_another_business_entry_is_404(client, tenant_a, tenant_b):
    theirs = suppression_add_manual(business=tenant_b.business, phone="+12025550155", user=None)
    client.force_login(tenant_a.owner.user)
    assert client.post(_remove_url(theirs.pk)).status_code == 404
    assert client.post(_remove_url(999999)).status_code == 404
    assert client.post("/app/compliance/do-not-text/abc/remove/").status_code == 404
    assert Suppression.objects.filter(pk=theirs.pk).exists()


def test_remove_is_post_only(client, tenant_a):
    manual = suppression_add_manual(business=tenant_a.business, phone="+12025550155", user=None)
    client.force_login(tenant_a.owner.user)
    assert client.get(_remove_url(manual.pk)).status_code == 405


# --- The evidence file ------------------------------------------------------------------------------------------------


def test_evidence_file_has_everything_on_the_number(client, tenant_a):
    a = tenant_a.number.phone_number
    phone = "+12025550133"
    text_in(from_number=phone, to_number=a, text="JOIN")
    text_in(from_number=phone, to_number=a, text="What time do you close?")
    text_in(from_number=phone, to_number=a, text="please stop texting me")
    client.force_login(tenant_a.member.user)
    response = client.get(EVIDENCE, {"phone": "202-555-0133"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"evidence-{tenant_a.business.slug}-12025550133-" in disposition
    html = response.content.decode()
    assert tenant_a.business.name.replace("'", "&#x27;") in html and "(202) 555-0133" in html and "Generated" in html
    events = list(ConsentEvent.objects.filter(business=tenant_a.business, phone_number=phone))
    assert len(events) == 2
    for event in events:
        assert event.row_hash in html and event.prev_hash in html and event.provider_message_id in html
    assert "&quot;inbound_text&quot;: &quot;JOIN&quot;" in html  # the evidence in full
    assert "What time do you close?" in html
    assert escape(replies.opt_out_confirmation(tenant_a.business)) in html  # the reply sent
    assert "From the consumer" in html and "To the consumer" in html
    assert "this entry was changed" not in html


def test_evidence_file_shows_a_tampered_entry(client, tenant_a):
    text_in(from_number="+12025550133", to_number=tenant_a.number.phone_number, text="JOIN")
    event = ConsentEvent.objects.get(business=tenant_a.business)
    _tamper("UPDATE consent_consentevent SET method = 'admin' WHERE id = %s", [event.pk])
    client.force_login(tenant_a.member.user)
    html = client.get(EVIDENCE, {"phone": "+12025550133"}).content.decode()
    assert "this entry was changed after it was written" in html


def test_evidence_file_holds_nothing_of_another_business(client, both):
    tenant_a, tenant_b = both
    client.force_login(tenant_a.owner.user)
    html = client.get(EVIDENCE, {"phone": SHARED}).content.decode()
    ours = ConsentEvent.objects.get(business=tenant_a.business, phone_number=SHARED)
    assert ours.row_hash in html
    for theirs in ConsentEvent.objects.filter(business=tenant_b.business):
        assert theirs.row_hash not in html
    assert "Is the open house still on?" not in html
    assert tenant_b.business.name not in html and tenant_b.number.phone_number not in html
    assert "Not on the do-not-text list" in html  # tenant_b's STOP is not ours


def test_evidence_for_a_number_only_another_business_knows_is_a_form_error(client, both):
    tenant_a, tenant_b = both
    text_in(from_number="+12025550191", to_number=tenant_b.number.phone_number, text="JOIN")
    client.force_login(tenant_a.owner.user)
    response = client.get(EVIDENCE, {"phone": "+12025550191"})
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    html = response.content.decode()
    assert 'id="id_phone_error"' in html and "There is nothing on this number" in html


@pytest.mark.parametrize("value", ["", "hello", "+1", "9" * 41, "<script>alert(1)</script>"])
def test_evidence_bad_phone_is_a_form_error(client, tenant_a, value):
    client.force_login(tenant_a.member.user)
    response = client.get(EVIDENCE, {"phone": value})
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    assert 'id="id_phone_error"' in response.content.decode()
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_pages_need_login(client, tenant_a):
    for url in (LEDGER, LIST, EVIDENCE):
        assert client.get(url).status_code == 302
    assert client.post(VERIFY).status_code == 302
