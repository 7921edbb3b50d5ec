"""Subscribers' access and deletion requests: the erasure leaves no trace of the number, the opt-out survives."""

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from accounts.models import AuditEvent
from campaigns.models import Campaign
from consent.models import ConsentEvent, Suppression
from consent.policy import can_send
from consent.selectors import ledger_verify
from messaging.models import Message, WebhookEvent
from nextalerts.phones import phone_hash
from privacy import services
from privacy.models import DataRequest, DataRequestEvent
from subscribers.models import Subscriber
from tests.factories import UserFactory
from tests.helpers import post_webhook, text_in
from tracking.models import Click

PHONE = "+12025550143"
OTHER = "+12125550199"
NAME = "Jane Quincy Subscriber"
EMAIL = "jane.quincy@example.org"
# The number as people write it; the search covers every text column of every model, so a new table cannot hide it.
NEEDLES = [PHONE, "12025550143", "2025550143", "(202) 555-0143", "202-555-0143", "202 555 0143", NAME, EMAIL]


def traces(needles=NEEDLES) -> list[str]:
    """Every (model, field, row) whose text holds one of the needles."""
    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                continue
            queryset = model._default_manager.all()
            if isinstance(field, models.JSONField):
                queryset = queryset.annotate(_as_text=Cast(field.name, TextField()))
                lookup = "_as_text__contains"
            else:
                lookup = f"{field.name}__contains"
            query = Q()
            for needle in needles:
                query |= Q(**{lookup: needle})
            for pk in queryset.filter(query).values_list("pk", flat=True):
                found.append(f"{model._meta.label}.{field.name} #{pk}")
    return found


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Access archives are files: written under the test's own directory."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def seeded(tenant_a, tenant_b):
    """The number everywhere it can be: opted in and out of A, subscribed to B, with texts, a click, webhooks,
    an admin log entry, and a profile the business filled in."""
    text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="JOIN")
    text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="Call me on (202) 555-0143 please")
    text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="STOP")
    text_in(from_number=PHONE, to_number=tenant_b.number.phone_number, text="JOIN")
    text_in(from_number=OTHER, to_number=tenant_a.number.phone_number, text="JOIN")
    Subscriber.objects.filter(phone_number=PHONE).update(name=NAME, email=EMAIL, notes="VIP, cell 202-555-0143")
    campaign = Campaign.objects.create(business=tenant_a.business, name="Spring sale", body="20% off today")
    sent = Message.objects.create(
        business=tenant_a.business,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.MARKETING,
        sender_number=tenant_a.number,
        phone_number=PHONE,
        phone_hash=phone_hash(PHONE),
        body=f"Hi {NAME}, 20% off today",
        status=Message.Status.DELIVERED,
        campaign=campaign,
        provider_message_id="out-1",
    )
    Click.objects.create(business=tenant_a.business, campaign=campaign, message=sent, url="https://example.com/sale")
    from devtools.fakes import signing

    post_webhook(signing.message_finalized(provider_message_id="out-1", to_number=PHONE))
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE)
    LogEntry.objects.create(
        user=tenant_a.owner.user,
        content_type=ContentType.objects.get_for_model(Subscriber),
        object_id=str(subscriber.pk),
        object_repr=str(subscriber),
        action_flag=CHANGE,
        change_message="",
    )
    assert traces()  # the search finds what is there
    return tenant_a, tenant_b


def test_deletion_leaves_no_trace_of_the_number_and_the_opt_out_still_blocks(seeded, admin_user):
    tenant_a, tenant_b = seeded
    ledger_before = ConsentEvent.objects.filter(phone_hash=phone_hash(PHONE)).count()
    data_request = services.data_request_open(
        kind=DataRequest.Kind.DELETION, phone="(202) 555-0143", actor=admin_user, note="Email from (202) 555-0143"
    )

    services.data_request_complete(data_request=data_request, actor=admin_user)

    assert traces() == []
    # Kept: the opt-out, by its keyed hash, and the ledger entries, without the number, their chain intact.
    assert Suppression.objects.filter(business=tenant_a.business, phone_hash=phone_hash(PHONE)).exists()
    assert ConsentEvent.objects.filter(phone_hash=phone_hash(PHONE)).count() == ledger_before
    assert ledger_verify() == []
    decision = can_send(tenant_a.business, PHONE, "marketing")
    assert not decision and "suppressed" in decision.reason
    assert not can_send(tenant_a.business, PHONE, "conversation")
    assert not can_send(tenant_b.business, PHONE, "marketing")
    # Another number is untouched.
    assert Subscriber.objects.filter(business=tenant_a.business, phone_number=OTHER).exists()
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.COMPLETED
    assert data_request.phone_number == "" and data_request.phone_hash == phone_hash(PHONE)
    assert data_request.completed_at and data_request.handled_by == admin_user
    assert data_request.result["erased"]["subscribers"] == 2
    assert WebhookEvent.objects.filter(payload={"erased": True}).count() >= 4


def test_the_erased_number_is_still_never_texted_by_the_business_it_opted_out_of(seeded, admin_user):
    tenant_a, _ = seeded
    data_request = services.data_request_open(kind="deletion", phone=PHONE, actor=admin_user, note="By letter")
    services.data_request_complete(data_request=data_request, actor=admin_user)
    # A HELP from the number after erasure gets no reply: it is suppressed, so nothing is queued for it.
    text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="HELP")
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND, phone_number=PHONE).exists()


def test_deletion_limited_to_one_business_keeps_the_others(seeded, admin_user):
    tenant_a, tenant_b = seeded
    data_request = services.data_request_open(
        kind="deletion", phone=PHONE, business=tenant_a.business, actor=admin_user, note="Asked Tony's Pizza"
    )
    services.data_request_complete(data_request=data_request, actor=admin_user)
    assert not Subscriber.objects.filter(business=tenant_a.business, phone_hash=phone_hash(PHONE)).exists()
    assert not ConsentEvent.objects.filter(business=tenant_a.business, phone_number=PHONE).exists()
    assert Subscriber.objects.filter(business=tenant_b.business, phone_number=PHONE).exists()
    assert ConsentEvent.objects.filter(business=tenant_b.business, phone_number=PHONE).exists()
    assert can_send(tenant_b.business, PHONE, "marketing")
    assert ledger_verify() == []


def test_access_request_archive_holds_the_numbers_data_across_businesses_only(seeded, admin_user):
    tenant_a, tenant_b = seeded
    data_request = services.data_request_open(kind="access", phone=PHONE, actor=admin_user, note="Verified by SMS")
    services.data_request_complete(data_request=data_request, actor=admin_user)
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.COMPLETED and data_request.archive
    with data_request.archive.open("rb") as fileobj, zipfile.ZipFile(io.BytesIO(fileobj.read())) as archive:
        data = json.loads(archive.read("data.json"))["data"]
        names = set(archive.namelist())
    assert {"data.json", "subscriptions.csv", "consent_ledger.csv", "messages.csv"} <= names
    assert {row["business_id"] for row in data["subscriptions"]} == {tenant_a.business.pk, tenant_b.business.pk}
    assert {b["name"] for b in data["businesses"]} == {tenant_a.business.name, tenant_b.business.name}
    assert all(row["phone_number"] == PHONE for row in data["messages"])
    assert OTHER not in json.dumps(data)
    assert data["link_clicks"] and data["suppressions"]
    # A later deletion removes the archive too: it is a copy of the erased data.
    deletion = services.data_request_open(kind="deletion", phone=PHONE, actor=admin_user, note="Then asked to delete")
    services.data_request_complete(data_request=deletion, actor=admin_user)
    data_request.refresh_from_db()
    assert not data_request.archive and data_request.phone_number == ""


def test_every_step_is_recorded_without_the_number(seeded, admin_user):
    data_request = services.data_request_open(kind="deletion", phone=PHONE, actor=admin_user, note="Phoned in")
    services.data_request_complete(data_request=data_request, actor=admin_user)
    actions = list(DataRequestEvent.objects.filter(request=data_request).values_list("action", flat=True))
    assert actions == ["opened", "erased", "completed"]
    audit = AuditEvent.objects.filter(target=f"data_request:{data_request.pk}")
    assert set(audit.values_list("action", flat=True)) == {"data_request_opened", "data_request_completed"}
    assert all(event.actor == admin_user for event in audit)


def test_a_request_is_completed_once_and_needs_a_valid_number(seeded, admin_user):
    with pytest.raises(ValidationError) as exc:
        services.data_request_open(kind="deletion", phone="not a number", actor=admin_user)
    assert "phone_number" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.data_request_open(kind="rectify", phone=PHONE, actor=admin_user)
    data_request = services.data_request_open(kind="access", phone=PHONE, actor=admin_user)
    services.data_request_complete(data_request=data_request, actor=admin_user)
    with pytest.raises(ValidationError):
        services.data_request_complete(data_request=data_request, actor=admin_user)


def test_web_form_sign_up_leaves_no_trace_after_deletion(tenant_a, admin_user, client):
    from django.test import TestCase

    from web import webform

    digest = webform.disclosure_for(business=tenant_a.business).digest
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("join", args=[tenant_a.business.slug]),
            {"phone": "(202) 555-0143", "consent": "on", "disclosure_digest": digest},
        )
    assert response.status_code < 400, response.content
    assert Subscriber.objects.filter(phone_number=PHONE).exists()
    data_request = services.data_request_open(kind="deletion", phone=PHONE, actor=admin_user, note="Form")
    services.data_request_complete(data_request=data_request, actor=admin_user)
    assert traces() == []


# --- The admin ------------------------------------------------------------------------------------------------------


def test_admin_opens_completes_and_downloads_a_request(seeded, admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:privacy_datarequest_add"),
        {"kind": "access", "phone_number": "202-555-0143", "business": "", "note": "Email, verified by a code texted"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    data_request = DataRequest.objects.get()
    assert data_request.phone_number == PHONE and data_request.handled_by == admin_user
    assert data_request.events.filter(action="opened").exists()

    response = client.post(
        reverse("admin:privacy_datarequest_changelist"),
        {"action": "complete_requests", "_selected_action": [data_request.pk]},
    )
    assert response.status_code == 302
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.COMPLETED

    page = client.get(reverse("admin:privacy_datarequest_change", args=[data_request.pk]))
    download = reverse("admin:privacy_datarequest_archive", args=[data_request.pk])
    assert download in page.content.decode()
    response = client.get(download)
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("data.json")


def test_admin_refuses_a_bad_number_and_a_missing_note(admin_user, client):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:privacy_datarequest_add"), {"kind": "deletion", "phone_number": "12", "note": ""}
    )
    assert response.status_code == 200
    assert not DataRequest.objects.exists()
    form = response.context["adminform"].form
    assert "phone_number" in form.errors and "note" in form.errors


def test_archive_download_needs_a_staff_login(seeded, admin_user, client, tenant_a):
    data_request = services.data_request_open(kind="access", phone=PHONE, actor=admin_user, note="x")
    services.data_request_complete(data_request=data_request, actor=admin_user)
    client.force_login(tenant_a.owner.user)
    response = client.get(reverse("admin:privacy_datarequest_archive", args=[data_request.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_an_access_archive_holds_the_tags_each_business_gave_the_number(seeded, admin_user):
    """Tags are what the business knows about the person (they decide which campaigns reach them): the subscriber's
    own copy of their data carries them, as the business's export does."""
    from subscribers.models import Tag

    tenant_a, _tenant_b = seeded
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=PHONE)
    subscriber.tags.add(Tag.objects.create(business=tenant_a.business, name="regulars"))
    data_request = services.data_request_open(kind="access", phone=PHONE, actor=admin_user, note="Verified by SMS")
    services.data_request_complete(data_request=data_request, actor=admin_user)
    data_request.refresh_from_db()
    with data_request.archive.open("rb") as fileobj, zipfile.ZipFile(io.BytesIO(fileobj.read())) as archive:
        data = json.loads(archive.read("data.json"))["data"]
        subscriptions_csv = archive.read("subscriptions.csv").decode()

    tags = {row["business_id"]: row["tags"] for row in data["subscriptions"]}
    assert tags[tenant_a.business.pk] == ["regulars"]
    assert [] in tags.values()  # B gave it none
    assert "regulars" in subscriptions_csv
