"""A customer's export: every kind of record the business holds, and nothing of another business."""

import csv
import io
import json
import zipfile

from accounts.models import AuditEvent
from campaigns.models import Campaign, Message
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
        "messages", "qr_codes", "qr_scans", "link_clicks",
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
