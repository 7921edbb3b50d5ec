"""A customer's export: every kind of record the business holds, and nothing of another business."""

import csv
import io
import json
import zipfile

from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Invitation
from accounts.services import api_token_create
from campaigns.models import Campaign
from messaging.models import Message
from nextalerts.phones import phone_hash
from privacy import archive, services
from privacy.models import DataRequest
from tests.helpers import text_in
from tracking.models import Click, QRCode, Scan

PHONE = "+12025550143"


def _seed(tenant, marker):
    """One of each kind of record, every text carrying `marker` so another business's rows are easy to spot."""
    text_in(from_number=PHONE, to_number=tenant.number.phone_number, text="JOIN")
    text_in(from_number=PHONE, to_number=tenant.number.phone_number, text=f"hello {marker}")
    text_in(from_number=PHONE, to_number=tenant.number.phone_number, text="STOP")
    business = tenant.business
    campaign = Campaign.objects.create(business=business, name=f"Campaign {marker}", body=f"Sale {marker}")
    message = Message.objects.create(
        business=business,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.MARKETING,
        sender_number=tenant.number,
        phone_number=PHONE,
        phone_hash=phone_hash(PHONE),
        body=f"Sale {marker}",
        status=Message.Status.DELIVERED,
        campaign=campaign,
    )
    Click.objects.create(business=business, campaign=campaign, message=message, url=f"https://example.com/{marker}")
    qr = QRCode.objects.create(business=business, number=tenant.number, keyword=tenant.keyword, label=f"QR {marker}")
    Scan.objects.create(business=business, qr_code=qr, device_type="ios", user_agent=f"Agent {marker}")
    Invitation.objects.create(
        business=business,
        email=f"invited-{marker.lower()}@example.com",
        token_hash=marker.ljust(64, "x"),
        invited_by=tenant.owner.user,
        expires_at=timezone.now() + Invitation.VALID_FOR,
    )
    _token, raw = api_token_create(business=business, user=tenant.owner.user, name=f"Website {marker}")
    return raw


def _open(fileobj):
    return zipfile.ZipFile(io.BytesIO(fileobj.read()))


def test_export_holds_every_kind_of_record_and_nothing_of_another_business(tenant_a, tenant_b):
    _seed(tenant_a, "ALPHA")
    _seed(tenant_b, "BRAVO")  # the same phone number, subscribed to both

    with services.business_export(business=tenant_a.business, actor=tenant_a.owner.user) as fileobj:
        zipped = _open(fileobj)
    document = json.loads(zipped.read("data.json"))
    data = document["data"]

    expected = {
        "business", "team", "numbers", "keywords", "subscribers", "consent_ledger", "suppressions", "campaigns",
        "messages", "qr_codes", "qr_scans", "link_clicks", "invitations", "api_tokens",
    }  # fmt: skip
    assert set(data) == expected
    for name in expected:
        assert data[name], f"{name} is empty"
        rows = list(csv.reader(io.StringIO(zipped.read(f"{name}.csv").decode())))
        assert len(rows) == len(data[name]) + 1, name  # a header, then the same rows as the JSON
        assert document["counts"][name] == len(data[name])

    everything = zipped.read("data.json").decode() + "".join(
        zipped.read(n).decode() for n in zipped.namelist() if n.endswith(".csv")
    )
    assert "ALPHA" in everything
    assert "BRAVO" not in everything
    assert tenant_b.business.name not in everything
    assert tenant_b.number.phone_number not in everything
    assert tenant_b.owner.user.email not in everything
    assert data["business"][0]["name"] == tenant_a.business.name
    assert {m["user__email"] for m in data["team"]} == {
        tenant_a.owner.user.email,
        tenant_a.admin.user.email,
        tenant_a.member.user.email,
    }
    assert [e["sequence"] for e in data["consent_ledger"]] == [1, 2]


def test_export_is_recorded(tenant_a):
    with services.business_export(business=tenant_a.business, actor=tenant_a.owner.user):
        pass
    data_request = DataRequest.objects.get(business=tenant_a.business)
    assert (data_request.kind, data_request.subject, data_request.status) == ("access", "business", "completed")
    assert data_request.handled_by == tenant_a.owner.user and data_request.completed_at
    assert list(data_request.events.values_list("action", flat=True)) == ["exported"]
    assert AuditEvent.objects.filter(
        action="data_exported", business=tenant_a.business, actor=tenant_a.owner.user
    ).exists()


def test_archive_reads_rows_in_chunks(tenant_a, monkeypatch):
    """Rows stream from the database into the zip: the reader is a chunked iterator, never a list in memory."""
    calls = []
    original = archive._rows

    def spy(section):
        rows = original(section)
        calls.append(type(rows).__name__)
        return rows

    monkeypatch.setattr(archive, "_rows", spy)
    with services.business_export(business=tenant_a.business, actor=tenant_a.owner.user):
        pass
    assert calls and all(name == "generator" for name in calls)


def _export(tenant):
    with services.business_export(business=tenant.business, actor=tenant.owner.user) as fileobj:
        zipped = _open(fileobj)
    data = json.loads(zipped.read("data.json"))["data"]
    csvs = {
        name[: -len(".csv")]: list(csv.DictReader(io.StringIO(zipped.read(name).decode())))
        for name in zipped.namelist()
        if name.endswith(".csv")
    }
    return data, csvs


def test_every_detail_the_subscriber_page_shows_is_in_the_export(client, tenant_a):
    """Whatever the subscriber page shows (the stats at its top and every detail its form edits) is in data.json and
    subscribers.csv: a detail added to the page but not to the export fails here."""
    from subscribers.models import Subscriber
    from subscribers.services import subscriber_update
    from web.subscriber_forms import SubscriberEditForm

    text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="JOIN")
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE)
    details = {"name": "Ada Flowers", "email": "ada@example.com", "tags": ["vip", "downtown"], "notes": "Likes tulips"}
    subscriber_update(subscriber=subscriber, **details)
    client.force_login(tenant_a.member.user)  # a member sees the details as text, not in a form
    page = client.get(reverse("dashboard:subscriber", args=[subscriber.pk])).content.decode()

    assert set(SubscriberEditForm.base_fields) == set(details), "a new detail on the page: add it to this test"
    shown = {
        "name": "Ada Flowers",
        "email": "ada@example.com",
        "notes": "Likes tulips",
        "tags": ["downtown", "vip"],
        "phone_number": PHONE,
        "status": "subscribed",
        "opt_in_method": "keyword",
        "number__phone_number": tenant_a.number.phone_number,
    }
    for value in ("Ada Flowers", "ada@example.com", "Likes tulips", "vip", "downtown", "(202) 555-0143"):
        assert value in page

    data, csvs = _export(tenant_a)
    [record] = data["subscribers"]
    [row] = csvs["subscribers"]
    for name, value in shown.items():
        assert record[name] == value, name
        assert row[name] == (", ".join(value) if isinstance(value, list) else value), name
    assert record["opted_in_at"] and row["opted_in_at"]


def test_export_carries_what_the_other_pages_show(tenant_a):
    """Numbers' profiles, QR codes with their scans and sign-ups, campaigns with their audience, sender and figures,
    pending invitations and the API tokens' names (never the tokens)."""
    raw = _seed(tenant_a, "ALPHA")
    campaign = Campaign.objects.get(business=tenant_a.business)
    campaign.sender_number = tenant_a.number
    campaign.save()
    campaign.tags.create(business=tenant_a.business, name="vip")
    tenant_a.number.messaging_profile_id = "profile-123"
    tenant_a.number.save()

    data, csvs = _export(tenant_a)
    assert data["numbers"][0]["messaging_profile_id"] == "profile-123"
    [qr] = data["qr_codes"]
    assert (qr["scan_count"], qr["opt_ins"]) == (1, 0)
    [exported] = data["campaigns"]
    assert exported["tags"] == ["vip"] and csvs["campaigns"][0]["tags"] == "vip"
    assert exported["sender_number__phone_number"] == tenant_a.number.phone_number
    figures = ("recipients", "delivered", "click_count", "opt_outs")
    assert [exported[name] for name in figures] == [1, 1, 1, 0]
    assert [i["email"] for i in data["invitations"]] == ["invited-alpha@example.com"]
    [token] = data["api_tokens"]
    assert token["name"] == "Website ALPHA" and token["user__email"] == tenant_a.owner.user.email
    everything = json.dumps(data) + json.dumps(csvs)
    assert raw not in everything


def test_a_cell_a_spreadsheet_would_run_as_a_formula_stays_text(tenant_a):
    """A subscriber's name typed as a formula reaches the export's CSV as text (a leading apostrophe), as in the
    subscribers page's own CSV; the phone number (E.164) and plain numbers are left as they are."""
    text_in(from_number="+12025550144", to_number=tenant_a.number.phone_number, text="JOIN")
    subscriber = tenant_a.business.subscribers.get(phone_number="+12025550144")
    subscriber.name = '=HYPERLINK("http://evil.example","Click")'
    subscriber.notes = "@SUM(1+1)"
    subscriber.save()

    data, csvs = _export(tenant_a)

    [row] = csvs["subscribers"]
    assert row["name"] == "'" + subscriber.name
    assert row["notes"] == "'@SUM(1+1)"
    assert row["phone_number"] == "+12025550144"
    assert data["subscribers"][0]["name"] == subscriber.name  # the JSON keeps the value as it is
