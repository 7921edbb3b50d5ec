"""No string a user, a consumer or a provider controls reaches a page as markup.

Every field they fill is filled with MARKUP, then every dashboard page and every public page is rendered (the pages
are found from the URL configuration, as tests/dashboard/test_formats_everywhere.py does, so a page added later is
checked too) and none may hold MARKUP raw: only its escaped form.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.html import escape

from accounts.models import Business, Invitation, Role
from accounts.services import api_token_create, invitation_create
from campaigns.models import Campaign
from consent.services import suppression_add_manual
from messaging.models import Message
from privacy.models import PolicyDocument, PolicyNotice
from subscribers.models import Subscriber
from subscribers.services import subscriber_update
from tests.dashboard.test_formats_everywhere import NOT_PAGES, _pages, dashboard_route_names
from tests.factories import KeywordFactory, MembershipFactory, SenderNumberFactory
from tests.helpers import launch_campaign, send_due, text_in
from tracking.models import Click, QRCode, Scan
from web import webform

MARKUP = '<script>x()</script>"><img src=x onerror=y()>'
# What must never be on a page: the element an attacker wants parsed. (The escaped form is &lt;script&gt;...)
RAW = ("<script>x()", "<img src=x onerror")

NOW = datetime(2026, 12, 3, 18, 45, tzinfo=UTC)
SUBSCRIBER = "+12025550143"
PENDING = "+12025550177"

# Public routes (outside the dashboard, the API and the admin) that are not pages, or need what the test cannot
# give them (a password-reset token is made per user and checked by Django; its page shows no stored data).
PUBLIC_NOT_PAGES = {
    "health", "ready", "metrics", "webhook-telnyx", "webhook-stripe", "logout", "api-schema",
    "password_reset_confirm",
}  # fmt: skip


def test_the_check_catches_markup_and_passes_its_escaped_form():
    assert _raw(f"<p>{MARKUP}</p>")
    assert not _raw(f"<p>{escape(MARKUP)}</p>")


def _raw(html: str) -> list[str]:
    return [piece for piece in RAW if piece in html]


def public_route_names() -> set[str]:
    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in ("dashboard", "admin") or str(pattern.pattern).startswith("api/v1/"):
                    continue
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and not str(pattern.pattern).startswith("api/v1/"):
                yield pattern.name

    return set(walk(get_resolver().url_patterns, None))


def _marked_business():
    """A business where every field someone other than us writes holds MARKUP."""
    owner = MembershipFactory(
        business__name=f"Acme {MARKUP}",
        business__support_contact=f"help {MARKUP}",
        business__address=f"1 Main St {MARKUP}",
        business__category=MARKUP,
        business__help_text=f"Acme help {MARKUP} Reply STOP to cancel.",
        user__full_name=f"Owner {MARKUP}",
    )
    business = owner.business
    # Addresses come through forms that check them; stored as they are here, as if one had slipped through.
    MembershipFactory(
        business=business, role=Role.MEMBER, user__full_name=f"Member {MARKUP}", user__email=f'"{MARKUP}"@acme.example'
    )
    number = SenderNumberFactory(business=business, messaging_profile_id="profile-1")
    keyword = KeywordFactory(number=number, keyword="BLOOM", confirmation_text=f"Welcome {MARKUP} Reply STOP to end.")
    to = number.phone_number

    text_in(from_number=SUBSCRIBER, to_number=to, text="BLOOM")
    text_in(from_number=SUBSCRIBER, to_number=to, text=f"Hello {MARKUP}")
    text_in(from_number="+442079460958", to_number=to, text="BLOOM")
    text_in(from_number="+442079460958", to_number=to, text="STOP")
    suppression_add_manual(business=business, phone="+12025550166", user=owner.user)
    subscriber = Subscriber.objects.get(business=business, phone_number=SUBSCRIBER)
    subscriber_update(
        subscriber=subscriber, name=MARKUP, email="ada@acme.example", notes=f"Notes {MARKUP}", tags=[MARKUP]
    )
    stopped = Subscriber.objects.get(business=business, phone_number="+442079460958")

    with TestCase.captureOnCommitCallbacks(execute=True):
        Client().post(
            reverse("join", args=[business.slug]),
            {"phone": PENDING, "consent": "on", "disclosure_digest": webform.disclosure_for(business=business).digest},
        )

    qr = QRCode.objects.create(business=business, number=number, keyword=keyword, label=MARKUP)
    Scan.objects.create(business=business, qr_code=qr, device_type="mobile", os=MARKUP, browser=MARKUP)

    sent = Campaign.objects.create(
        business=business, name=f"Sale {MARKUP}", body=f"Deal {MARKUP} https://acme.example/x", sender_number=number
    )
    launch_campaign(sent, NOW)
    send_due(NOW)
    # The provider's answer about a message: its error, shown on the subscriber's page and in the evidence file.
    Message.objects.filter(campaign=sent).update(error_code="40300", error_detail=f"Blocked {MARKUP}")
    message = Message.objects.filter(campaign=sent).first()
    Click.objects.create(
        business=business, campaign=sent, message=message, url=f"https://acme.example/?q={MARKUP}", user_agent=MARKUP
    )
    Campaign.objects.filter(pk=sent.pk).update(status_detail=f"Stopped: {MARKUP}")
    draft = Campaign.objects.create(
        business=business,
        name=f"Draft {MARKUP}",
        body=MARKUP,
        sender_number=number,
        media_urls=[f"https://acme.example/a.jpg?{MARKUP}"],
    )

    Invitation.objects.create(
        business=business,
        email=f'"{MARKUP}"@acme.example',
        role=Role.MEMBER,
        token_hash="f" * 64,
        invited_by=owner.user,
        expires_at=NOW + Invitation.VALID_FOR,
    )
    api_token_create(business=business, user=owner.user, name=MARKUP)
    MembershipFactory(
        user=owner.user,
        business__name=f"Gone {MARKUP}",
        business__status=Business.Status.DELETED,
        business__deletion_requested_at=NOW - timedelta(days=1),
    )
    return owner, number, keyword, subscriber, stopped, qr, sent, draft


def _public_pages(business, qr, invitation_token, notice) -> dict[str, str]:
    """Every public page, by its route's name. A tracked link redirects; its not-found page shows no stored data."""
    return {
        "home": reverse("home"),
        "api-docs": reverse("api-docs"),
        "join": reverse("join", args=[business.slug]),
        "qr-scan": reverse("qr-scan", args=[qr.slug]),
        "link-click": reverse("link-click", args=["nothing"]),
        "privacy": reverse("privacy"),
        "privacy-version": reverse("privacy-version", args=[1]),
        "terms": reverse("terms"),
        "terms-version": reverse("terms-version", args=[1]),
        "policy-review": reverse("policy-review", args=[notice.pk]),
        "cookies": reverse("cookies"),
        "signup": reverse("signup"),
        "login": reverse("login"),
        "password_reset": reverse("password_reset"),
        "password_reset_done": reverse("password_reset_done"),
        "password_reset_complete": reverse("password_reset_complete"),
        "no-business": reverse("no-business"),
        "invitation-accept": reverse("invitation-accept", args=[invitation_token]),
    }


def test_every_public_page_is_checked():
    stub = type("Stub", (), {"slug": "s"})()
    assert (
        public_route_names()
        == set(_public_pages(stub, stub, "token", type("Stub", (), {"pk": 1})())) | PUBLIC_NOT_PAGES
    )


@pytest.mark.django_db
def test_no_page_shows_what_others_wrote_as_markup(client, settings):
    with time_machine.travel(NOW, tick=False):
        owner, number, keyword, subscriber, stopped, qr, sent, draft = _marked_business()
        _invitation, token = invitation_create(
            business=owner.business, email="invited@acme.example", role=Role.MEMBER, invited_by=owner.user
        )
        document = PolicyDocument.objects.create(
            kind="privacy",
            version=99,
            effective_on=NOW.date(),
            material=True,
            changes="New",
            template_name="privacy/privacy.html",
        )
        notice = PolicyNotice.objects.create(document=document, user=owner.user)
        client.force_login(owner.user)
        found, statuses, shown = {}, {}, set()
        pages = _pages(number, keyword, subscriber, stopped, qr, sent, draft)
        for name, url in pages:
            settings.DEBUG = name.startswith("simulator")  # the phone simulator exists on a demo server only
            response = client.get(url)
            statuses[name] = response.status_code
            if _raw(response.content.decode()):
                found[name] = _raw(response.content.decode())
            if escape(MARKUP) in response.content.decode():
                shown.add(name)
        settings.DEBUG = False
        for name, url in _public_pages(owner.business, qr, token, notice).items():
            for who, as_whom in ((Client(), "consumer"), (client, "owner")):
                response = who.get(url)
                if response.status_code in (301, 302):
                    continue
                statuses[name, as_whom] = response.status_code
                if _raw(response.content.decode()):
                    found[name] = _raw(response.content.decode())
                if escape(MARKUP) in response.content.decode():
                    shown.add(name)
    assert not found, found
    # The marked data is on the pages, escaped: every dashboard page but the fragments, and the consumer's pages.
    fragments = {"data-deletion-pending", "campaign-stats", "simulator-conversation"}
    assert {name for name, _url in pages} - fragments | {"join", "qr-scan", "invitation-accept"} <= shown
    # The pages were rendered with the data in them, not an error page.
    assert {name: status for name, status in statuses.items() if status >= 400} == {
        ("link-click", "consumer"): 404,
        ("link-click", "owner"): 404,
        ("invitation-accept", "owner"): 403,  # the invitation is for another address
    }
    assert dashboard_route_names() - NOT_PAGES == {name for name, _url in pages}


ROOT = Path(__file__).resolve().parents[1]
# The places that may mark a string safe, and why: each escapes what it was given, or holds nothing anyone typed.
MARKS_SAFE = {
    "nextalerts/templatetags/formats.py",  # possessive: escapes the name, then adds the apostrophe
    "web/qr.py",  # segno's QR SVG of our own URL; its title holds a keyword (letters, digits) and our ref
    "tracking/dashboard.py",  # segno's QR SVG of our own URL, with no title
}


def test_no_template_turns_escaping_off_and_only_known_code_marks_strings_safe():
    templates = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if re.search(r"\|\s*safe\b|autoescape\s+off|\|\s*safeseq\b", path.read_text())
    }
    code = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not path.is_relative_to(ROOT / "tests")
        and ".venv" not in path.parts
        and re.search(r"\bmark_safe\(|\bSafeString\(|\bSafeText\(", path.read_text())
    }
    assert templates == set()
    assert code == MARKS_SAFE
