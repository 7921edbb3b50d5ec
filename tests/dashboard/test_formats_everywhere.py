"""Every dashboard page, for a business named "Flowers" with data of every kind, writes for people: phone numbers as
people write them (no E.164), times in a human format (no ISO timestamps), and no "Flowers's" or "p.m.." in its text.

The pages are found from the URL configuration, so a page added later is checked too (or must say here why not).
Only what people read is checked: text, not attributes or form inputs, which keep E.164 on purpose.
"""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Business, Invitation, Role
from accounts.services import api_token_create
from campaigns.models import Campaign
from consent.services import suppression_add_manual
from messaging.models import Message
from subscribers.models import Subscriber
from subscribers.services import subscriber_update
from tests.factories import KeywordFactory, MembershipFactory, SenderNumberFactory
from tests.helpers import launch_campaign, send_due, text_in
from tracking.models import Click, QRCode, Scan
from web import webform

SUBSCRIBER = "+12025550143"
ABROAD = "+442079460958"  # a UK number texting a US business: international form
PENDING = "+12025550177"

E164 = re.compile(r"\+\d{8,15}")
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
S_APOSTROPHE_S = re.compile(r"\b(\w*s)['’]s\b", re.IGNORECASE)
# A common noun ending in s takes 's ("your business's time zone"); a name does not ("Flowers' texts").
NOUNS_TAKING_S = {"business"}
DOUBLE_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")  # ".." but not an ellipsis "..."

# Routes that are not pages: actions answering POST only, downloads that are files, fragments fetched by script.
NOT_PAGES = {
    "compliance-verify", "suppression-remove", "inbox-reply", "campaign-measure", "campaign-draft",
    "team-role", "team-remove", "invitation-cancel", "token-revoke", "switch-business", "data-export",
    "data-delete", "data-deletion-cancel", "billing-checkout", "billing-portal", "subscribers-export",
    "qr-code-svg", "qr-code-png",
    # Opened from the link an email change sends (its token is made per user): its page shows the new address only.
    "account-email-confirm",
}  # fmt: skip

# The moments the pages are rendered at: an afternoon (p.m.), 03:00 UTC (the evening before in New York), and the
# night US clocks go back (1:30 a.m. happens twice).
MOMENTS = [
    datetime(2026, 12, 3, 18, 45, tzinfo=UTC),
    datetime(2026, 12, 3, 3, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
]


class _Text(HTMLParser):
    """The text people read: no attributes, nothing inside scripts, styles or text boxes."""

    SKIPPED = {"script", "style", "textarea"}
    # Text inside these runs on ("<time>1:45 p.m.</time>." reads "1:45 p.m.."); other tags separate words.
    INLINE = {"a", "abbr", "b", "code", "em", "i", "small", "span", "strong", "time"}

    def __init__(self, *, verbatim_ok=False):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0
        if verbatim_ok:
            self.SKIPPED = self.SKIPPED | {"pre"}

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def page_text(html: str, *, verbatim_ok=False) -> str:
    parser = _Text(verbatim_ok=verbatim_ok)
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts))


def dashboard_route_names() -> set[str]:
    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace == "dashboard" and pattern.name:
                yield pattern.name

    return set(walk(get_resolver().url_patterns, None))


def _flowers(now):
    """A florist called Flowers, with one of everything its pages show."""
    owner = MembershipFactory(business__name="Flowers", business__support_contact="hello@flowers.example")
    business = owner.business
    number = SenderNumberFactory(business=business, messaging_profile_id="profile-1")
    keyword = KeywordFactory(number=number, keyword="BLOOM")
    to = number.phone_number

    text_in(from_number=SUBSCRIBER, to_number=to, text="BLOOM")
    text_in(from_number=SUBSCRIBER, to_number=to, text="Are you open on Sunday?")
    text_in(from_number=SUBSCRIBER, to_number=to, text="HELP")
    text_in(from_number=ABROAD, to_number=to, text="BLOOM")
    text_in(from_number=ABROAD, to_number=to, text="Do you deliver to London?")
    text_in(from_number=ABROAD, to_number=to, text="STOP")
    suppression_add_manual(business=business, phone="+12025550166", user=owner.user)
    subscriber = Subscriber.objects.get(business=business, phone_number=SUBSCRIBER)
    subscriber_update(subscriber=subscriber, name="Ada Flowers", email="ada@flowers.example", tags=["roses"])

    with TestCase.captureOnCommitCallbacks(execute=True):  # a web form sign-up, waiting for its YES
        Client().post(
            reverse("join", args=[business.slug]),
            {"phone": PENDING, "consent": "on", "disclosure_digest": webform.disclosure_for(business=business).digest},
        )

    qr = QRCode.objects.create(business=business, number=number, keyword=keyword, label="Front window")
    Scan.objects.create(business=business, qr_code=qr, device_type="mobile", os="iOS", browser="Safari")

    sent = Campaign.objects.create(business=business, name="Mother's Day", body="Roses 20% off", sender_number=number)
    launch_campaign(sent, now)
    send_due(now)
    message = Message.objects.filter(campaign=sent).first()
    if message is not None:
        Click.objects.create(business=business, campaign=sent, message=message, url="https://flowers.example/roses")
    Campaign.objects.create(
        business=business,
        name="Spring",
        body="Tulips are in",
        sender_number=number,
        status=Campaign.Status.SCHEDULED,
        send_at=now + timedelta(days=3),
    )
    draft = Campaign.objects.create(business=business, name="Draft", body="Lilies", sender_number=number)

    Invitation.objects.create(
        business=business,
        email="new@flowers.example",
        role=Role.MEMBER,
        token_hash="f" * 64,
        invited_by=owner.user,
        expires_at=now + Invitation.VALID_FOR,
    )
    api_token_create(business=business, user=owner.user, name="Till")

    # A second business of the same owner, deleted and waiting for its purge: the deletion page lists it.
    MembershipFactory(
        user=owner.user,
        business__name="Weeds",
        business__status=Business.Status.DELETED,
        business__deletion_requested_at=now - timedelta(days=1),
    )
    stopped = Subscriber.objects.get(business=business, phone_number=ABROAD)
    return owner, number, keyword, subscriber, stopped, qr, sent, draft


def _pages(number, keyword, subscriber, stopped, qr, sent, draft) -> list[tuple[str, str]]:
    """Every dashboard page (by its route's name), with the query it needs to show its data."""
    simulator = f"?number={number.pk}&phone={SUBSCRIBER.replace('+', '%2B')}"
    pages = {
        "overview": reverse("dashboard:overview"),
        "compliance": reverse("dashboard:compliance"),
        "suppressions": reverse("dashboard:suppressions"),
        "evidence-export": reverse("dashboard:evidence-export") + "?phone=%2B12025550143",
        "simulator": reverse("dashboard:simulator") + simulator,
        "simulator-conversation": reverse("dashboard:simulator-conversation") + simulator,
        "campaigns": reverse("dashboard:campaigns"),
        "campaign-create": reverse("dashboard:campaign-create"),
        "campaign": reverse("dashboard:campaign", args=[sent.pk]),
        "campaign-stats": reverse("dashboard:campaign-stats", args=[sent.pk]),
        "campaign-edit": reverse("dashboard:campaign-edit", args=[draft.pk]),
        "campaign-launch": reverse("dashboard:campaign-launch", args=[draft.pk]),
        "campaign-cancel": reverse("dashboard:campaign-cancel", args=[sent.pk]),
        "campaign-delete": reverse("dashboard:campaign-delete", args=[draft.pk]),
        "subscribers": reverse("dashboard:subscribers"),
        "subscriber": reverse("dashboard:subscriber", args=[subscriber.pk]),
        "inbox": reverse("dashboard:inbox"),
        "numbers": reverse("dashboard:numbers"),
        "help-reply": reverse("dashboard:help-reply"),
        "number-create": reverse("dashboard:number-create"),
        "number-edit": reverse("dashboard:number-edit", args=[number.pk]),
        "number-delete": reverse("dashboard:number-delete", args=[number.pk]),
        "keyword-create": reverse("dashboard:keyword-create"),
        "keyword-edit": reverse("dashboard:keyword-edit", args=[keyword.pk]),
        "keyword-delete": reverse("dashboard:keyword-delete", args=[keyword.pk]),
        "qr-codes": reverse("dashboard:qr-codes"),
        "qr-code-create": reverse("dashboard:qr-code-create"),
        "qr-code": reverse("dashboard:qr-code", args=[qr.pk]),
        "qr-code-edit": reverse("dashboard:qr-code-edit", args=[qr.pk]),
        "qr-code-delete": reverse("dashboard:qr-code-delete", args=[qr.pk]),
        "settings": reverse("dashboard:settings"),
        "team": reverse("dashboard:team"),
        "tokens": reverse("dashboard:tokens"),
        "account": reverse("dashboard:account"),
        "data": reverse("dashboard:data"),
        "data-deletion-pending": reverse("dashboard:data-deletion-pending"),
        "billing": reverse("dashboard:billing"),
    }
    return list(pages.items()) + [("subscriber", reverse("dashboard:subscriber", args=[stopped.pk]))]


def problems(text: str) -> list[str]:
    found = []
    for name, pattern in (
        ("E.164 number", E164),
        ("ISO timestamp", ISO_TIMESTAMP),
        ("s's", S_APOSTROPHE_S),
        ("double period", DOUBLE_PERIOD),
    ):
        for match in pattern.finditer(text):
            if pattern is S_APOSTROPHE_S and match.group(1).lower() in NOUNS_TAKING_S:
                continue
            found.append(f"{name}: …{text[max(0, match.start() - 40) : match.end() + 20]}…")
    return found


def test_the_checks_catch_what_they_are_for():
    text = page_text(
        '<p title="+12025550143">Flowers\'s texts to +12025550143 at 2026-12-03T13:45:00+00:00, '
        "<time>1:45 p.m.</time>.</p>"
        "<textarea>+12025550143</textarea><p>Loading...</p>"
    )
    assert [problem.split(":")[0] for problem in problems(text)] == [
        "E.164 number",
        "ISO timestamp",
        "s's",
        "double period",
    ]


def test_every_dashboard_page_is_checked():
    pages = _pages(*(type("Stub", (), {"pk": 1})() for _ in range(7)))
    assert dashboard_route_names() == {name for name, _url in pages} | NOT_PAGES


@pytest.mark.parametrize("now", MOMENTS, ids=lambda moment: moment.strftime("%Y-%m-%dT%H:%M"))
def test_every_dashboard_page_writes_numbers_times_and_names_for_people(client, db, settings, now):
    with time_machine.travel(now, tick=False):
        owner, *objects = _flowers(now)
        client.force_login(owner.user)
        found = {}  # page -> what is wrong on it
        for name, url in _pages(*objects):
            settings.DEBUG = name.startswith("simulator")  # the phone simulator exists on a demo server only
            response = client.get(url)
            assert response.status_code == 200, (name, response.status_code)
            # The evidence file quotes each ledger entry's evidence verbatim (<pre>): the exact content its hash is
            # computed over, for whoever checks it. Everything around it is written for people.
            text = page_text(response.content.decode(), verbatim_ok=name == "evidence-export")
            if name not in ("data-deletion-pending", "campaign-stats", "simulator-conversation"):  # fragments
                assert "Flowers" in text, name
            if problems(text):
                found.setdefault(name, []).extend(problems(text))
    assert not found, "\n".join(f"{page}: {problem}" for page, items in found.items() for problem in items)


def test_the_notices_after_an_action_write_numbers_and_times_for_people(client, db):
    """What a page says after a POST (the message at its top) is checked too: scheduling a campaign for the
    afternoon, adding a number to the do-not-text list, adding a number."""
    now = MOMENTS[0]
    with time_machine.travel(now, tick=False):
        owner, number, *_objects = _flowers(now)
        client.force_login(owner.user)
        with TestCase.captureOnCommitCallbacks(execute=False):
            scheduled = client.post(
                reverse("dashboard:campaign-create"),
                {
                    "name": "Friday roses",
                    "body": "Flowers: roses 2 for 1 on Friday! Reply STOP to cancel",
                    "media_urls": "",
                    "sender_number": number.pk,
                    "audience": "all",
                    "track_links": "on",
                    "when": "later",
                    "send_at": "2026-12-11T13:45",
                    "action": "launch",
                },
                follow=True,
            )
            # Send now and Schedule show the confirmation first; "Schedule it" schedules.
            scheduled = client.post(scheduled.redirect_chain[-1][0], follow=True)
        suppressed = client.post(reverse("dashboard:suppressions"), {"add-phone": "+12025550188"}, follow=True)
        added = client.post(
            reverse("dashboard:number-create"),
            {"phone_number": "+14155550999", "messaging_profile_id": "", "messages_per_second": 1},
            follow=True,
        )
    notices = {
        "scheduled": page_text(scheduled.content.decode()),
        "suppressed": page_text(suppressed.content.decode()),
        "added": page_text(added.content.decode()),
    }
    assert "is scheduled for Friday, Dec 11, 2026 1:45 PM EST." in notices["scheduled"]
    assert "(202) 555-0188 is on your do-not-text list" in notices["suppressed"]
    assert "(415) 555-0999 added." in notices["added"]
    assert {name: problems(text) for name, text in notices.items()} == {"scheduled": [], "suppressed": [], "added": []}
