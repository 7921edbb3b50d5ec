"""manage.py load_demo: the demo business comes with weeks of sample activity, built through the services (the
consent ledger stays intact), that the overview, the campaign and the QR code pages show at once; a second run
changes nothing."""

import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Business, User
from campaigns import selectors as campaign_selectors
from campaigns.models import Campaign
from consent.models import ConsentEvent, Suppression
from devtools.management.commands import load_demo
from messaging.backends import locmem
from messaging.models import Message
from subscribers.models import SenderNumber, Subscriber
from tracking import selectors as tracking_selectors
from tracking.models import Click, QRCode, Scan

# Noon in New York, 03:00 UTC (the evening before there), and the Sunday US clocks go forward.
CLOCKS = [
    datetime(2026, 1, 14, 17, 0, tzinfo=UTC),
    datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
]
MODELS = [User, Business, Subscriber, ConsentEvent, Suppression, Message, Campaign, QRCode, Scan, Click]


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def _load():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def _stat(html, label):
    match = re.search(rf'<span class="label">{label}</span>\s*<span class="value">(\d+)</span>', html)
    assert match, label
    return int(match.group(1))


@pytest.mark.parametrize("clock", CLOCKS, ids=["noon", "3am-utc", "dst-start"])
def test_the_demo_has_sample_data_the_overview_shows_and_a_second_run_adds_nothing(db, client, clock):
    with time_machine.travel(clock, tick=True):
        assert "sample subscribers" in _load()
        call_command("verify_consent_ledger", stdout=io.StringIO())  # raises on a broken chain

        business = Business.objects.get()
        subscribers = Subscriber.objects.filter(business=business)
        assert subscribers.filter(status=Subscriber.Status.SUBSCRIBED).count() == 15
        assert {s.opt_in_method for s in subscribers} == {"keyword", "qr_code", "web_form"}
        assert Suppression.objects.filter(business=business, reason=Suppression.Reason.STOP).count() == 2
        events = ConsentEvent.objects.filter(business=business)
        assert events.filter(kind=ConsentEvent.Kind.CONFIRM, method=ConsentEvent.Method.WEB_FORM).count() == 3
        # Spread over the last four weeks, not all today.
        assert len({e.occurred_at.date() for e in events}) > 15

        campaign = Campaign.objects.get(business=business)
        assert campaign.status == Campaign.Status.SENT
        stats = campaign_selectors.campaign_stats(campaign=campaign)
        assert (stats["recipients"], stats["delivered"], stats["failed"]) == (11, 10, 1)
        assert (stats["unique_clickers"], stats["opt_outs"], stats["queued"]) == (4, 1, 0)
        qr_code = QRCode.objects.get(business=business)
        qr_stats = tracking_selectors.qr_code_stats(qr_codes=[qr_code])[qr_code.pk]
        assert (qr_stats.scans, qr_stats.opt_ins) == (7, 5)
        # Nothing is left waiting, and every reply went out at the time of the text it answers.
        assert not Message.objects.filter(status=Message.Status.QUEUED).exists()
        assert not Message.objects.filter(status=Message.Status.BLOCKED).exists()

        client.force_login(User.objects.get(email=load_demo.DEMO_EMAIL))
        html = client.get(reverse("dashboard:overview")).content.decode()
        assert _stat(html, "Subscribers now") == 15
        assert _stat(html, "Joined, last 30 days") == 17
        assert _stat(html, "Opted out, last 30 days") == 2
        assert "Weekend special" in html and ">Sent<" in html
        assert "91%" in html  # delivered: 10 of the 11 handed to the carrier
        assert 'class="optin"' in html and 'class="optout"' in html  # bars in the 30-day chart

        before = _counts()
        assert "sample subscribers" not in _load()
        assert _counts() == before
        call_command("verify_consent_ledger", stdout=io.StringIO())


def test_the_demo_keeps_a_business_someone_already_used(db):
    """Someone who already joined from the simulator keeps their own story; the rest of the sample is added."""
    with time_machine.travel(CLOCKS[0], tick=True):
        call_command("load_demo", stdout=io.StringIO())
        first = _counts()
        Campaign.objects.all().delete()  # as if the sample had never been loaded (messages go with it)
        call_command("load_demo", stdout=io.StringIO())
        assert Subscriber.objects.count() == first["Subscriber"]  # nobody twice
        assert ConsentEvent.objects.count() == first["ConsentEvent"]  # no second opt-in or STOP for anyone
        assert Campaign.objects.get().status == Campaign.Status.SENT
        call_command("verify_consent_ledger", stdout=io.StringIO())


def test_the_links_it_prints_follow_the_public_address(db, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8100"
    with time_machine.travel(CLOCKS[0], tick=True):
        output = _load()
    assert "http://127.0.0.1:8100/login/" in output and "http://127.0.0.1:8100/app/simulator/" in output
    assert ":8000" not in output


def test_the_sample_history_texts_nobody_even_with_telnyx_configured(db, fake_telnyx, settings):
    assert settings.SMS_BACKEND == "telnyx"
    with time_machine.travel(CLOCKS[0], tick=True):
        _load()
    assert fake_telnyx.messages() == []
    assert Message.objects.filter(status=Message.Status.SENT).exists()  # played through the send path all the same
    assert settings.SMS_BACKEND == "telnyx"


def test_a_provider_account_without_the_demo_number_stops_with_a_clear_error(db, monkeypatch):
    monkeypatch.setattr(locmem, "owned_numbers", set())
    with pytest.raises(
        CommandError,
        match=r"\+12025550100 could not be registered: This number is not on your Telnyx account.*SMS_BACKEND=console",
    ):
        _load()
    assert not SenderNumber.objects.exists()
