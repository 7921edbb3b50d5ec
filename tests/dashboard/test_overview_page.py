"""The overview page: subscribers now, joins and opt-outs per day, how people joined, the latest campaigns."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from consent.models import ConsentEvent
from consent.services import consent_event_record
from messaging.models import Message
from nextalerts.phones import phone_hash
from subscribers.models import Subscriber
from tests.helpers import text_in
from tracking.models import Click

URL = "/app/"


def _phone(i):
    return f"+1202555{i:04d}"


def _subscribers(business, count, start=0):
    Subscriber.objects.bulk_create(
        Subscriber(
            business=business,
            phone_number=_phone(start + i),
            phone_hash=phone_hash(_phone(start + i)),
            status=Subscriber.Status.SUBSCRIBED,
            opt_in_method=Subscriber.Method.KEYWORD,
        )
        for i in range(count)
    )


def _campaign(business, number, name, *, sent, delivered, clickers=0, launched_at=None):
    campaign = Campaign.objects.create(
        business=business,
        name=name,
        body="Pizza night",
        sender_number=number,
        status=Campaign.Status.SENT,
        launched_at=launched_at or datetime.now(UTC) - timedelta(days=1),
    )
    messages = Message.objects.bulk_create(
        Message(
            business=business,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.MARKETING,
            sender_number=number,
            phone_number=_phone(i),
            phone_hash=phone_hash(_phone(i)),
            body="Pizza night",
            status=Message.Status.DELIVERED if i < delivered else Message.Status.SENT,
            campaign=campaign,
        )
        for i in range(sent)
    )
    Click.objects.bulk_create(
        Click(business=business, campaign=campaign, message=message, url="https://example.com", is_preview=False)
        for message in messages[:clickers]
    )
    return campaign


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_overview_renders_for_every_role(client, tenant_a, role):
    client.force_login(getattr(tenant_a, role).user)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"<h1>Overview</h1>" in response.content
    assert response.content.count(b"<h1") == 1


SUPPORT_TODO = "Add a support contact: HELP replies must say how to reach you"


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_overview_asks_for_a_support_contact_when_help_replies_have_none(client, tenant_a, tenant_b, role):
    tenant_a.business.support_contact = tenant_a.business.phone = ""
    tenant_a.business.save()
    client.force_login(getattr(tenant_a, role).user)

    html = client.get(URL).content.decode()

    todo = re.search(r'<section class="card todo".*?</section>', html, re.S).group(0)
    assert SUPPORT_TODO in todo
    assert f'href="{reverse("dashboard:settings")}#id_support_contact"' in todo
    # Another business's missing contact is not this one's to-do.
    client.force_login(tenant_b.owner.user)
    tenant_b.business.support_contact = "help@bella.example"
    tenant_b.business.save()
    assert SUPPORT_TODO not in client.get(URL).content.decode()


@pytest.mark.parametrize(
    "profile",
    [{"support_contact": "help@tonys.example"}, {"support_contact": "", "phone": "+14155550100"}],
    ids=["support-contact", "phone-only"],
)
def test_no_support_contact_to_do_when_help_replies_say_how_to_reach_you(client, tenant_a, profile):
    for field, value in profile.items():
        setattr(tenant_a.business, field, value)
    tenant_a.business.save()
    client.force_login(tenant_a.owner.user)

    assert SUPPORT_TODO not in client.get(URL).content.decode()


def test_no_support_contact_to_do_when_the_own_help_reply_gives_a_contact(client, tenant_a):
    business = tenant_a.business
    business.support_contact = business.phone = ""
    business.help_text = f"{business.name}: call 415-555-0100. Msg frequency varies. Msg & data rates may apply. STOP"
    business.save()
    client.force_login(tenant_a.owner.user)

    assert SUPPORT_TODO not in client.get(URL).content.decode()


def test_overview_needs_login(client, tenant_a):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_subscriber_count_is_this_business_only(client, tenant_a, tenant_b):
    _subscribers(tenant_a.business, 3)
    _subscribers(tenant_b.business, 7)
    Subscriber.objects.create(
        business=tenant_a.business,
        phone_number=_phone(900),
        phone_hash=phone_hash(_phone(900)),
        status=Subscriber.Status.UNSUBSCRIBED,
    )
    client.force_login(tenant_a.member.user)
    response = client.get(URL)
    assert response.context["subscribers"] == 3
    assert tenant_b.number.phone_number not in response.content.decode()


def test_chart_counts_joins_and_opt_outs_per_local_day(client, tenant_a, tenant_b):
    # Tony's Pizza is on New York time: 02:00 UTC on the 10th is still the 9th there.
    a = tenant_a.number.phone_number
    with time_machine.travel(datetime(2025, 3, 10, 2, 0, tzinfo=UTC), tick=False):
        text_in(from_number="+12025550101", to_number=a, text="JOIN")
    with time_machine.travel(datetime(2025, 3, 10, 15, 0, tzinfo=UTC), tick=False):
        text_in(from_number="+12025550102", to_number=a, text="JOIN")
        text_in(from_number="+12025550103", to_number=a, text="JOIN")
        text_in(from_number="+12025550102", to_number=a, text="STOP")
        text_in(from_number="+12025550103", to_number=a, text="HELP")
        text_in(from_number="+12025550104", to_number=tenant_b.number.phone_number, text="JOIN")
    with time_machine.travel(datetime(2025, 1, 1, 15, 0, tzinfo=UTC), tick=False):
        text_in(from_number="+12025550105", to_number=a, text="JOIN")  # long before the last 30 days

    client.force_login(tenant_a.member.user)
    with time_machine.travel(datetime(2025, 3, 12, 16, 0, tzinfo=UTC), tick=False):
        response = client.get(URL)
    activity = response.context["activity"]
    days = {d.day.isoformat(): (d.opt_ins, d.opt_outs) for d in activity.days}
    assert len(activity.days) == 30
    assert activity.days[-1].day.isoformat() == "2025-03-12"
    assert days["2025-03-09"] == (1, 0)
    assert days["2025-03-10"] == (2, 1)
    assert days["2025-03-11"] == (0, 0)
    assert (activity.opt_ins, activity.opt_outs) == (3, 1)
    assert activity.by_method["keyword"] == 3
    html = response.content.decode()
    assert "<svg" in html and 'role="img"' in html
    assert "Mar 10: 2 joined" in html
    assert "Mar 10: 1 opted out" in html
    # The table alternative carries the same figures.
    assert "Mon, Mar 10" in html


def test_join_methods_split_keyword_qr_and_web_form(client, tenant_a):
    business = tenant_a.business
    for method, count in [("keyword", 2), ("qr_code", 1), ("web_form", 1)]:
        for i in range(count):
            kind = ConsentEvent.Kind.CONFIRM if method == "web_form" else ConsentEvent.Kind.OPT_IN
            consent_event_record(
                business=business, phone=_phone(hash(method) % 100 + i), kind=kind, method=method, evidence={}
            )
    client.force_login(tenant_a.member.user)
    response = client.get(URL)
    methods = {m["label"]: (m["count"], m["percent"]) for m in response.context["join_methods"]}
    assert methods == {"Keyword": (2, 50), "QR code": (1, 25), "Web form": (1, 25)}
    assert '<rect width="50" height="1"/>' in response.content.decode()


def test_latest_campaigns_show_delivery_click_through_and_opt_outs(client, tenant_a, tenant_b):
    launched = datetime.now(UTC) - timedelta(hours=5)
    campaign = _campaign(
        tenant_a.business, tenant_a.number, "Friday pizza", sent=10, delivered=8, clickers=3, launched_at=launched
    )
    # Two recipients opt out after it; one of them twice. One opt-out is from someone it was not sent to.
    for phone in [_phone(0), _phone(1), _phone(1), _phone(500)]:
        consent_event_record(business=tenant_a.business, phone=phone, kind="opt_out", method="keyword", evidence={})
    _campaign(tenant_b.business, tenant_b.number, "Open house", sent=2, delivered=2)
    client.force_login(tenant_a.member.user)
    response = client.get(URL)
    rows = response.context["campaigns"]
    assert [r.campaign.pk for r in rows] == [campaign.pk]
    summary = rows[0].summary
    assert (summary.recipients, summary.delivered, summary.opt_outs) == (10, 8, 2)
    assert (summary.delivery_rate, summary.click_through_rate) == (0.8, 0.3)
    html = response.content.decode()
    assert "Friday pizza" in html and "80%" in html and "30%" in html
    assert "Open house" not in html

    from campaigns.selectors import campaign_stats

    stats = campaign_stats(campaign=campaign)
    assert stats["opt_outs"] == summary.opt_outs
    assert stats["click_through_rate"] == summary.click_through_rate


def test_only_the_last_five_campaigns_are_listed(client, tenant_a):
    for i in range(7):
        _campaign(tenant_a.business, tenant_a.number, f"Campaign {i}", sent=1, delivered=1)
    client.force_login(tenant_a.member.user)
    response = client.get(URL)
    assert [r.campaign.name for r in response.context["campaigns"]] == [f"Campaign {i}" for i in range(6, 1, -1)]


def test_first_run_invites_to_add_a_number(client, tenant_a, settings):
    settings.DEBUG = True
    tenant_a.number.delete()
    client.force_login(tenant_a.owner.user)
    response = client.get(URL)
    html = response.content.decode()
    assert "Add a number and a keyword" in html
    assert "Try it in the phone simulator" in html


def test_first_run_hides_the_simulator_outside_debug(client, tenant_a, settings):
    settings.DEBUG = False
    tenant_a.number.delete()
    client.force_login(tenant_a.owner.user)
    html = client.get(URL).content.decode()
    assert "Add a number and a keyword" in html
    assert "phone simulator" not in html


def test_no_first_run_once_a_keyword_exists(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    assert "Get your first subscribers" not in client.get(URL).content.decode()


def _fill(tenant, n, offset):
    _subscribers(tenant.business, n, start=offset)
    for i in range(n):
        consent_event_record(
            business=tenant.business, phone=_phone(offset + i), kind="opt_in", method="keyword", evidence={}
        )
        _campaign(tenant.business, tenant.number, f"C{offset + i}", sent=2, delivered=1, clickers=1)


def test_query_count_does_not_grow_with_rows(client, tenant_a):
    client.force_login(tenant_a.member.user)
    _fill(tenant_a, 3, 0)
    client.get(URL)  # warm up: session, content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    _fill(tenant_a, 30, 100)
    client.get(URL)
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_garbage_query_strings_never_fail(client, tenant_a):
    client.force_login(tenant_a.member.user)
    for query in ["?page=abc", "?days=-1", "?x=" + "9" * 5000, "?page=99999999999999999999"]:
        assert client.get(URL + query).status_code == 200


def test_overview_reverses_under_the_dashboard_namespace():
    assert reverse("dashboard:overview") == URL
