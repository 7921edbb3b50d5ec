"""The subscribers list, its CSV export, and a subscriber's page: roles, tenancy, search, consent history, editing."""

import csv
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from messaging.models import Message
from subscribers import services
from subscribers.models import Subscriber
from tests.helpers import text_in
from tracking.models import Click

LIST = reverse("dashboard:subscribers")
EXPORT = reverse("dashboard:subscribers-export")


def subscribe(tenant, phone, *, name="", tags=()):
    """Subscribe `phone` the only way the product allows: the consumer texts the keyword."""
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=tenant.keyword.keyword)
    subscriber = Subscriber.objects.get(business=tenant.business, phone_number=phone)
    if name or tags:
        services.subscriber_update(subscriber=subscriber, name=name, tags=list(tags))
    return subscriber


def page_url(subscriber):
    return reverse("dashboard:subscriber", args=[subscriber.pk])


def export_rows(response):
    assert isinstance(response, StreamingHttpResponse)
    content = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(content)))


# --- The list -------------------------------------------------------------------------------------------------------


def test_list_renders_for_a_member_with_count_and_rows(client, tenant_a):
    subscribe(tenant_a, "+12025550143", name="Maria", tags=["vip"])
    client.force_login(tenant_a.member.user)
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Subscribers</h1>" in html
    assert "(202) 555-0143" in html and "Maria" in html and "vip" in html
    assert "Subscribed" in html and "Texted a keyword" in html
    assert "<strong>1</strong> subscriber" in html


def test_list_offers_no_way_to_add_a_subscriber_and_explains_how_people_join(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    html = client.get(LIST).content.decode()
    assert "No subscribers yet" in html
    assert "JOIN" in html and f"(415) 555-{tenant_a.number.phone_number[-4:]}" in html
    assert f"/join/{tenant_a.business.slug}/" in html
    assert "QR code" in html
    lowered = html.lower()
    assert "add subscriber" not in lowered and "add a subscriber" not in lowered and "import" not in lowered
    # Nothing on the page posts anywhere but log out.
    assert lowered.count('<form method="post"') <= 1


def test_list_shows_only_the_current_business(client, tenant_a, tenant_b):
    subscribe(tenant_a, "+12025550143")
    subscribe(tenant_b, "+12025550177")
    client.force_login(tenant_a.member.user)
    html = client.get(LIST).content.decode()
    assert "(202) 555-0143" in html and "(202) 555-0177" not in html


@pytest.mark.parametrize("typed", ["(202) 555-01", "2025550143", "+1 202 555 0143", "555-0143", "Maria", "mar"])
def test_search_by_partial_digits_however_typed_or_by_name(client, tenant_a, typed):
    subscribe(tenant_a, "+12025550143", name="Maria")
    subscribe(tenant_a, "+13105559876", name="Bob")
    client.force_login(tenant_a.member.user)
    html = client.get(LIST, {"q": typed}).content.decode()
    assert "(202) 555-0143" in html
    assert "(310) 555-9876" not in html


def test_status_and_tag_filters(client, tenant_a):
    subscribe(tenant_a, "+12025550143", tags=["vip"])
    subscribe(tenant_a, "+12025550144", tags=["downtown"])
    subscribe(tenant_a, "+12025550145")
    text_in(from_number="+12025550145", to_number=tenant_a.number.phone_number, text="STOP")
    client.force_login(tenant_a.member.user)

    html = client.get(LIST, {"status": "unsubscribed"}).content.decode()
    assert "(202) 555-0145" in html and "(202) 555-0143" not in html and "(202) 555-0144" not in html

    html = client.get(LIST, {"tag": "vip"}).content.decode()
    assert "(202) 555-0143" in html and "(202) 555-0144" not in html and "(202) 555-0145" not in html

    html = client.get(LIST, {"tag": "vip", "status": "unsubscribed"}).content.decode()
    assert "No subscribers match your search" in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 10_000},
        {"q": "a\x00b"},
        {"q": "%_\\'\""},
        {"status": "nonsense"},
        {"tag": "does-not-exist" * 100},
        {"page": "abc"},
        {"page": "-1"},
        {"page": "99999999999999999999"},
        {"status": ["subscribed", "pending"], "q": ["1", "2"]},
    ],
)
def test_garbage_filters_never_fail(client, tenant_a, params):
    subscribe(tenant_a, "+12025550143")
    client.force_login(tenant_a.member.user)
    assert client.get(LIST, params).status_code == 200
    assert client.get(EXPORT, params).status_code == 200


def _list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(client, tenant_a):
    client.force_login(tenant_a.member.user)
    for n in range(3):
        subscribe(tenant_a, f"+1202555{n:04d}", name=f"Person {n}", tags=["vip", f"t{n}"])
    few = _list_queries(client)
    for n in range(3, 30):
        subscribe(tenant_a, f"+1202555{n:04d}", name=f"Person {n}", tags=["vip", f"t{n}"])
    assert _list_queries(client) == few


def test_list_paginates_fifty_per_page_newest_first(client, tenant_a):
    for n in range(52):
        subscribe(tenant_a, f"+1202555{n:04d}")
    client.force_login(tenant_a.member.user)
    first = client.get(LIST).content.decode()
    assert "(202) 555-0051" in first and "(202) 555-0000" not in first
    assert "Page 1 of 2" in first
    second = client.get(LIST, {"page": 2}).content.decode()
    assert "(202) 555-0000" in second and "(202) 555-0051" not in second


# --- The export -----------------------------------------------------------------------------------------------------


def test_export_streams_the_filtered_list(client, tenant_a, tenant_b):
    subscribe(tenant_a, "+12025550143", name="Maria", tags=["vip", "downtown"])
    subscribe(tenant_a, "+12025550144", name="Bob")
    subscribe(tenant_b, "+12025550199", name="Other business")
    client.force_login(tenant_a.member.user)

    rows = export_rows(client.get(EXPORT))
    assert rows[0] == ["Phone", "Name", "Email", "Status", "Tags", "Opt-in method", "Opted in at", "Opted out at"]
    assert {row[0] for row in rows[1:]} == {"+12025550143", "+12025550144"}
    maria = next(row for row in rows if row[0] == "+12025550143")
    assert maria[1] == "Maria" and maria[3] == "subscribed" and maria[4] == "downtown, vip" and maria[5] == "keyword"
    assert maria[6] and not maria[7]

    rows = export_rows(client.get(EXPORT, {"tag": "vip"}))
    assert [row[0] for row in rows[1:]] == ["+12025550143"]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_export_defuses_spreadsheet_formulas(client, tenant_a, name):
    subscriber = subscribe(tenant_a, "+12025550143")
    services.subscriber_update(subscriber=subscriber, name=name, email="=x@example.com")
    client.force_login(tenant_a.member.user)
    row = export_rows(client.get(EXPORT))[1]
    assert row[1] == "'" + name
    assert row[2] == "'=x@example.com"
    assert row[0] == "+12025550143"  # E.164 cannot carry a formula and stays matchable


def test_export_needs_a_login(client, tenant_a):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "login" in response["Location"]


# --- A subscriber's page ----------------------------------------------------------------------------------------------


def test_subscriber_page_shows_consent_evidence_and_history_to_a_member(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143", name="Maria")
    text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text="Are you open today?")
    client.force_login(tenant_a.member.user)
    response = client.get(page_url(subscriber))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "(202) 555-0143" in html and "Maria" in html
    # The timeline: the inbound keyword, the provider id, and the reply the consumer got.
    assert "Consent history" in html and "Subscribed" in html
    assert "Text received" in html and "Telnyx message id" in html and "Reply sent" in html
    assert "Msg &amp; data rates may apply" in html
    # The texts both ways.
    assert "Are you open today?" in html and "From them" in html and "To them" in html
    # A member reads; there is no form to change anything.
    assert "Save details" not in html and "Admins can edit these details" in html


def test_subscriber_page_shows_a_suppressed_number_clearly(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text="STOP")
    client.force_login(tenant_a.member.user)
    html = client.get(page_url(subscriber)).content.decode()
    assert "do-not-text list" in html and "They texted STOP" in html
    assert "Unsubscribed" in html


def test_subscriber_page_lists_links_clicked(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    campaign = Campaign.objects.create(business=tenant_a.business, name="Friday deal", body="See https://x.test")
    message = Message.objects.create(
        business=tenant_a.business,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.MARKETING,
        phone_number=subscriber.phone_number,
        phone_hash=subscriber.phone_hash,
        body="See https://example.test/t/abc",
        status=Message.Status.DELIVERED,
        campaign=campaign,
    )
    Click.objects.create(business=tenant_a.business, campaign=campaign, message=message, url="https://deal.test/fri")
    Click.objects.create(
        business=tenant_a.business, campaign=campaign, message=message, url="https://preview.test/", is_preview=True
    )
    client.force_login(tenant_a.member.user)
    html = client.get(page_url(subscriber)).content.decode()
    assert "Links clicked" in html and "https://deal.test/fri" in html and "Friday deal" in html
    assert "https://preview.test/" not in html


def test_admin_edits_name_email_notes_and_tags(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    client.force_login(tenant_a.admin.user)
    response = client.post(
        page_url(subscriber),
        {
            "name": "Maria Lopez",
            "email": "maria@example.com",
            "notes": "Likes pepperoni",
            "tags": "VIP, #Downtown!, vip",
        },
    )
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert (subscriber.name, subscriber.email, subscriber.notes) == (
        "Maria Lopez",
        "maria@example.com",
        "Likes pepperoni",
    )
    assert sorted(t.name for t in subscriber.tags.all()) == ["downtown", "vip"]
    assert subscriber.status == Subscriber.Status.SUBSCRIBED
    assert "Saved." in client.get(page_url(subscriber)).content.decode()


def test_edit_errors_are_shown_next_to_the_field(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    client.force_login(tenant_a.admin.user)
    response = client.post(page_url(subscriber), {"name": "x" * 500, "email": "not an email", "tags": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_name_error"' in html and 'id="id_email_error"' in html
    assert "Enter a valid email address." in html
    subscriber.refresh_from_db()
    assert subscriber.name == ""


def test_edit_cannot_change_consent(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text="STOP")
    client.force_login(tenant_a.owner.user)
    client.post(page_url(subscriber), {"name": "x", "status": "subscribed", "opted_out_at": ""})
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_member_cannot_edit(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    client.force_login(tenant_a.member.user)
    response = client.post(page_url(subscriber), {"name": "Changed"})
    assert response.status_code == 403
    assert "Admin" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.name == ""


def test_another_business_subscriber_is_not_found(client, tenant_a, tenant_b):
    theirs = subscribe(tenant_b, "+12025550143", name="Private")
    client.force_login(tenant_a.owner.user)
    assert client.get(page_url(theirs)).status_code == 404
    assert client.post(page_url(theirs), {"name": "Hijacked"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Private"


@pytest.mark.parametrize("path", ["/app/subscribers/abc/", "/app/subscribers/99999999999999999999/"])
def test_bad_subscriber_ids_are_not_found(client, tenant_a, path):
    client.force_login(tenant_a.member.user)
    assert client.get(path).status_code == 404


def test_subscriber_page_survives_garbage_page_numbers(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143")
    client.force_login(tenant_a.member.user)
    for page in ["abc", "-5", "0", "99999999999999999999", "1e9"]:
        assert client.get(page_url(subscriber), {"page": page}).status_code == 200


def _page_queries(client, subscriber):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url(subscriber))
    assert response.status_code == 200
    return len(queries)


def test_subscriber_page_query_count_does_not_grow_with_history(client, tenant_a):
    subscriber = subscribe(tenant_a, "+12025550143", tags=["vip"])
    client.force_login(tenant_a.member.user)
    for n in range(3):
        text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text=f"hello {n}")
    few = _page_queries(client, subscriber)
    for n in range(3, 30):
        text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text=f"hello {n}")
    text_in(from_number="+12025550143", to_number=tenant_a.number.phone_number, text="HELP")
    assert _page_queries(client, subscriber) == few
