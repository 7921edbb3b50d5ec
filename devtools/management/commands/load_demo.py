"""manage.py load_demo: a demo business with a number, a keyword and an owner login, and a few weeks of sample
activity: subscribers who joined by keyword, QR code and web form, two STOPs, a QR code with scans and a campaign
with its results. Safe to run again: what exists already is left as it is.

The sample history goes through the product's own services, in the order it happened, each given the time it
happened at (the ledger records the time the consumer's text arrived, as a webhook would). Only rows that record
their own creation time (messages, scans, clicks) are dated back afterwards, to the moment of the step that made them.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Business, User
from accounts.services import business_create
from campaigns import services as campaign_services
from campaigns.models import Campaign
from consent.models import ConsentEvent
from messaging import services as messaging_services
from messaging.inbound import inbound_message_handle
from messaging.messages import DeliveryReport, InboundMessage
from messaging.models import Message
from nextalerts.phones import phone_hash
from subscribers.models import Keyword, SenderNumber
from subscribers.services import NumberCheckUnavailable, keyword_create, number_create, number_update
from tracking import links
from tracking import services as tracking_services
from tracking.models import Click, QRCode, Scan
from web import clicks, webform

DEMO_EMAIL = "owner@demo.nextalerts.local"
DEMO_PASSWORD = "demo-pizza-2026"
ADMIN_EMAIL = "admin@demo.nextalerts.local"
ADMIN_PASSWORD = "demo-admin-2026"
DEMO_NUMBER = "+12025550100"
DEMO_KEYWORD = "PIZZA"
# The sample history is replayed without texting anyone (the in-memory outbox): a rate that lets load_demo finish in
# seconds.
DEMO_MESSAGES_PER_SECOND = 50
DEMO_QR_LABEL = "Front counter"
DEMO_CAMPAIGN = "Weekend special"
DEMO_CAMPAIGN_BODY = (
    "Tony's Pizza: 2 large pizzas for $20 this weekend! Order at https://tonys.example/menu Reply STOP to opt out"
)
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
)
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36"
)


@dataclass(frozen=True)
class Step:
    days_ago: int
    at: time  # on the business's clock
    action: str  # keyword, qr, web_form, stop, scan, campaign
    phone: str = ""


# The sample history, oldest first. 555-01xx numbers are reserved for fiction.
HISTORY = [
    Step(27, time(11, 5), "keyword", "+12025550111"),
    Step(26, time(18, 40), "keyword", "+12125550112"),
    Step(25, time(12, 15), "scan"),
    Step(25, time(12, 16), "qr", "+12025550113"),
    Step(23, time(19, 2), "web_form", "+13105550114"),
    Step(22, time(13, 30), "keyword", "+13055550115"),
    Step(20, time(12, 0), "scan"),
    Step(20, time(12, 45), "scan"),
    Step(20, time(12, 46), "qr", "+12025550116"),
    Step(18, time(17, 20), "keyword", "+13125550117"),
    Step(16, time(20, 10), "stop", "+12125550112"),
    Step(15, time(11, 50), "web_form", "+12025550118"),
    Step(14, time(12, 30), "scan"),
    Step(13, time(18, 5), "keyword", "+12025550119"),
    Step(12, time(12, 10), "qr", "+12025550120"),
    Step(11, time(16, 0), "keyword", "+13105550121"),
    Step(10, time(19, 15), "keyword", "+12125550122"),
    Step(9, time(12, 0), "campaign"),
    Step(9, time(14, 30), "stop", "+13055550115"),  # after the campaign: counted as its opt-out
    Step(7, time(12, 40), "scan"),
    Step(7, time(12, 41), "qr", "+12025550123"),
    Step(5, time(18, 30), "keyword", "+12025550124"),
    Step(4, time(13, 10), "web_form", "+12125550125"),
    Step(3, time(12, 20), "scan"),
    Step(2, time(17, 45), "keyword", "+13125550126"),
    Step(1, time(12, 5), "scan"),
    Step(1, time(12, 6), "qr", "+12025550127"),
]
# Of the campaign's texts: these fail at the carrier, and these recipients click its link.
CAMPAIGN_FAILED = {"+13125550117"}
CAMPAIGN_CLICKERS = {"+12025550111", "+12025550113", "+13105550114", "+12025550119"}


def _demo_number(business):
    """Registered like any number: the SMS backend must own it (console and run_fake_telnyx own every number)."""
    try:
        return number_create(business=business, phone_number=DEMO_NUMBER, messages_per_second=DEMO_MESSAGES_PER_SECOND)
    except (ValidationError, NumberCheckUnavailable) as exc:
        why = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        raise CommandError(
            f"The demo number {DEMO_NUMBER} could not be registered: {why} The demo needs no real provider: "
            f"run it with SMS_BACKEND=console, or against run_fake_telnyx (SMS_BACKEND={settings.SMS_BACKEND} now)."
        ) from exc


class Command(BaseCommand):
    help = "Create (or show) the demo business, its number, keyword and owner login, with sample activity."

    def handle(self, *args, **options):
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(email=DEMO_EMAIL, password=DEMO_PASSWORD, full_name="Demo Owner")
            if not User.objects.filter(email=ADMIN_EMAIL).exists():
                User.objects.create_superuser(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, full_name="Platform Admin")
            business = Business.objects.filter(memberships__user=user).first()
            if business is None:
                business = business_create(
                    name="Tony's Pizza",
                    owner=user,
                    address="1 Main St, Washington, DC",
                    support_contact="help@tonys.example",
                    time_zone="America/New_York",
                )
            number = SenderNumber.objects.filter(phone_number=DEMO_NUMBER).first() or _demo_number(business)
            keyword = Keyword.objects.filter(number=number, keyword__iexact=DEMO_KEYWORD).first()
            if keyword is None:
                keyword = keyword_create(business=business, number=number, keyword=DEMO_KEYWORD)
        loaded = False
        if (
            number.business_id == business.pk
            and not Campaign.objects.filter(business=business, name=DEMO_CAMPAIGN).exists()
        ):
            if number.messages_per_second < DEMO_MESSAGES_PER_SECOND:
                number = number_update(instance=number, messages_per_second=DEMO_MESSAGES_PER_SECOND)
            _replay_without_texting(Demo(business=business, number=number, keyword=keyword, user=user))
            loaded = True
        site = settings.PUBLIC_BASE_URL
        self.stdout.write(
            "\n".join(
                [
                    "Demo business ready:"
                    + (" (sample subscribers, a QR code and a campaign added)" if loaded else ""),
                    f"  business  {business.name}",
                    f"  number    {number.phone_number}  (keyword {DEMO_KEYWORD})",
                    f"  owner     {DEMO_EMAIL} / {DEMO_PASSWORD}  (dashboard: {site}/login/)",
                    f"  admin     {ADMIN_EMAIL} / {ADMIN_PASSWORD}  ({site}/admin/)",
                    f"  try       the dashboard's Phone simulator ({site}/app/simulator/): text "
                    f"{DEMO_KEYWORD}, HELP or STOP to {number.phone_number}",
                ]
            )
        )


def _replay_without_texting(demo: "Demo") -> None:
    """The sample history is played through the real services, but its texts go to the in-memory outbox: the demo's
    made-up numbers are never texted, whatever SMS_BACKEND (even Telnyx) this installation is configured with."""
    configured = settings.SMS_BACKEND
    settings.SMS_BACKEND = "locmem"
    try:
        demo.load()
    finally:
        settings.SMS_BACKEND = configured


class Demo:
    """Plays HISTORY through the services, each step at its own time."""

    def __init__(self, *, business, number, keyword, user):
        self.business, self.number, self.keyword, self.user = business, number, keyword, user
        self.zone = zoneinfo.ZoneInfo(business.time_zone)
        self.today = timezone.localtime(timezone.now(), self.zone).date()
        self.inbound = 0

    def at(self, step: Step) -> datetime:
        # In UTC, as a webhook's times are: the ledger hashes the time as it is given and verifies it as stored.
        return datetime.combine(self.today - timedelta(days=step.days_ago), step.at, tzinfo=self.zone).astimezone(UTC)

    def load(self) -> None:
        with transaction.atomic():
            self.known = set(ConsentEvent.objects.filter(business=self.business).values_list("phone_hash", flat=True))
            self.qr_code = QRCode.objects.filter(business=self.business, label=DEMO_QR_LABEL).first()
            if self.qr_code is None:
                self.qr_code = tracking_services.qr_code_create(
                    business=self.business, number=self.number, keyword=self.keyword, label=DEMO_QR_LABEL
                )
            for step in HISTORY:
                when = self.at(step)
                if step.phone and phone_hash(step.phone) in self.known:
                    continue  # someone who was in this business's ledger already (the simulator...) keeps their story
                getattr(self, f"_{step.action}")(step, when)

    @staticmethod
    def _last_message_id() -> int:
        return Message.objects.aggregate(last=Max("pk"))["last"] or 0

    def _settle(self, since: int, when: datetime) -> None:
        """The texts stored after message `since`: the replies go out at `when`, as a worker would have sent them
        then (the tasks queued for after the commit then find them sent), and all of them are dated `when`, not the
        moment load_demo stored them."""
        stored = Message.objects.filter(business=self.business, pk__gt=since, campaign__isnull=True)
        queued = list(stored.filter(status=Message.Status.QUEUED).values_list("pk", flat=True))
        messaging_services.messages_send(message_ids=queued, now=when)
        stored.update(created_at=when, updated_at=when)
        stored.filter(sent_at__isnull=False).update(sent_at=when + timedelta(seconds=2))

    def _text(self, phone: str, text: str, when: datetime) -> None:
        since = self._last_message_id()
        self.inbound += 1
        inbound_message_handle(
            message=InboundMessage(
                provider_message_id=f"demo-{self.business.pk}-{self.inbound}",
                from_number=phone,
                to_number=self.number.phone_number,
                text=text,
                received_at=when,
            )
        )
        self._settle(since, when)

    def _keyword(self, step: Step, when: datetime) -> None:
        self._text(step.phone, DEMO_KEYWORD.capitalize() if step.days_ago % 2 else DEMO_KEYWORD, when)

    def _qr(self, step: Step, when: datetime) -> None:
        self._text(step.phone, self.qr_code.prefilled_body, when)

    def _stop(self, step: Step, when: datetime) -> None:
        self._text(step.phone, "STOP", when)

    def _web_form(self, step: Step, when: datetime) -> None:
        since = self._last_message_id()
        webform.web_form_sign_up(
            business=self.business,
            number=self.number,
            phone=step.phone,
            disclosure=webform.disclosure_for(business=self.business),
            ip="198.51.100.7",
            user_agent=PHONE_UA,
            form_url=f"/join/{self.business.slug}/",
            now=when,
        )
        self._settle(since, when)  # the "Reply YES" text, which they answer
        self._text(step.phone, "YES", when + timedelta(minutes=3))

    def _scan(self, step: Step, when: datetime) -> None:
        agent = PHONE_UA if step.days_ago % 2 else ANDROID_UA
        scan = tracking_services.scan_record(qr_code=self.qr_code, user_agent=agent, ip="198.51.100.20", referrer="")
        Scan.objects.filter(pk=scan.pk).update(scanned_at=when)

    def _campaign(self, step: Step, when: datetime) -> None:
        campaign = campaign_services.campaign_create(
            business=self.business, created_by=self.user, name=DEMO_CAMPAIGN, body=DEMO_CAMPAIGN_BODY,
            sender_number=self.number,
        )  # fmt: skip
        Campaign.objects.filter(pk=campaign.pk).update(created_at=when - timedelta(hours=1))
        campaign_services.campaign_launch(campaign=campaign, now=when)
        campaign_services.campaign_fan_out(campaign_id=campaign.pk, now=when)
        ids = list(campaign.messages.values_list("pk", flat=True))
        # Sent here, at the launch's time, rather than by the dispatch queued for after the commit (which then finds
        # nothing left to send).
        messaging_services.messages_send(message_ids=ids, now=when)
        sent = when + timedelta(seconds=5)
        for message in campaign.messages.all():
            failed = message.phone_number in CAMPAIGN_FAILED
            messaging_services.delivery_report_apply(
                message=DeliveryReport(
                    provider_message_id=message.provider_message_id,
                    status=Message.Status.DELIVERY_FAILED if failed else Message.Status.DELIVERED,
                    error_code="40008" if failed else "",
                    error_detail="Undeliverable" if failed else "",
                    parts=1,
                    cost="0.0040",
                    cost_currency="USD",
                    sent_at=sent,
                    completed_at=when + timedelta(seconds=20),
                )
            )
            if message.phone_number in CAMPAIGN_CLICKERS:
                link = clicks.link_resolve(code=links.link_code(message.pk, 0))
                click = clicks.click_record(link=link, user_agent=PHONE_UA, ip="198.51.100.30")
                Click.objects.filter(pk=click.pk).update(clicked_at=when + timedelta(minutes=12))
        campaign.messages.update(created_at=when, sent_at=sent, updated_at=when + timedelta(seconds=20))
        Campaign.objects.filter(pk=campaign.pk).update(completed_at=when + timedelta(seconds=20))
