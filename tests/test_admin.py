"""The platform admin: every registered model's pages load for a superuser, tenant filters work, and the admin offers
no way around the consent promises: the ledger and the suppressions are read-only, nobody is subscribed from here,
and a keyword saved here passes the same checks as one saved through the API."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import Business, User
from accounts.services import api_token_create, invitation_create
from campaigns.services import campaign_create
from consent.models import ConsentEvent, Suppression
from devtools.fakes import stripe_signing
from messaging.models import Message
from nextalerts.phones import phone_hash
from privacy.services import data_request_open
from subscribers.models import Keyword, SenderNumber, Subscriber, Tag
from subscribers.services import subscriber_update
from tests.factories import SenderNumberFactory
from tests.helpers import post_stripe_event, text_in
from tracking.models import Click
from tracking.services import qr_code_create

REGISTERED = list(admin.site._registry)
CONSUMER = "+12025550143"
OTHER_CONSUMER = "+12025550144"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def has_business(model) -> bool:
    return any(field.name == "business" for field in model._meta.fields)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every tenant makes six users; bcrypt at 12 rounds is the point of tests/accounts, and only slow here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(email="root@example.com", password="not-used-in-these-tests")


@pytest.fixture
def superuser_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def data(tenant_a, tenant_b, fake_stripe):
    """Rows for every registered model, made the way the product makes them: consumers text keywords and STOP,
    Stripe reports a business's invoice paid."""
    for number, tenant in enumerate((tenant_a, tenant_b)):
        Business.objects.filter(pk=tenant.business.pk).update(stripe_customer_id=f"cus_{number}")
        paid = stripe_signing.invoice_event("invoice.paid", customer=f"cus_{number}", subscription=f"sub_{number}")
        assert post_stripe_event(paid).status_code == 200
        # The same two phones in both businesses: one stays subscribed, the other joins and then texts STOP.
        text_in(from_number=CONSUMER, to_number=tenant.number.phone_number, text="JOIN")
        text_in(from_number=OTHER_CONSUMER, to_number=tenant.number.phone_number, text="JOIN")
        text_in(from_number=OTHER_CONSUMER, to_number=tenant.number.phone_number, text="STOP")
        subscriber = Subscriber.objects.get(business=tenant.business, phone_number=CONSUMER)
        subscriber_update(subscriber=subscriber, tags=["VIP"])
        api_token_create(user=tenant.owner.user, business=tenant.business)
        invitation_create(
            business=tenant.business, email="new@example.com", role="member", invited_by=tenant.owner.user
        )
        data_request_open(kind="access", phone=CONSUMER, actor=None, business=tenant.business, note="By email")
        campaign = campaign_create(
            business=tenant.business, name="Weekly deals", body="2 for 1!", sender_number=tenant.number
        )
        # A QR code, scanned once by a phone.
        code = qr_code_create(business=tenant.business, number=tenant.number, keyword=tenant.keyword, label="Door")
        assert Client().get(f"/q/{code.slug}", HTTP_USER_AGENT=IPHONE).status_code == 302
        # A click on a tracked link of a campaign message.
        message = Message.objects.create(
            business=tenant.business,
            direction=Message.Direction.OUTBOUND,
            kind=Message.Kind.MARKETING,
            sender_number=tenant.number,
            phone_number=CONSUMER,
            phone_hash=phone_hash(CONSUMER),
            body="2 for 1! https://example.com/deals",
            status=Message.Status.SENT,
            campaign=campaign,
        )
        Click.objects.create(
            business=tenant.business, campaign=campaign, message=message, url="https://example.com/deals"
        )
    Group.objects.create(name="Support")
    return tenant_a, tenant_b


def test_every_registered_model_has_rows_in_the_test_data(data):
    assert [model._meta.label for model in REGISTERED if not model.objects.exists()] == []


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_changelist_loads_and_searches(superuser_client, data, model):
    response = superuser_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == model.objects.count()
    if admin.site._registry[model].search_fields:
        assert superuser_client.get(url(model, "changelist"), {"q": "2025"}).status_code == 200


@pytest.mark.parametrize("model", [m for m in REGISTERED if has_business(m)], ids=lambda model: model._meta.label)
def test_changelist_filters_by_business(superuser_client, data, model):
    tenant_a, tenant_b = data
    for business in (tenant_a.business, tenant_b.business):
        response = superuser_client.get(url(model, "changelist"), {"business__id__exact": business.pk})
        # An unknown filter redirects with ?e=1 and a disallowed one answers 400: both would fail here.
        assert response.status_code == 200
        changelist = response.context["cl"]
        assert changelist.result_count == model.objects.filter(business=business).count() > 0
        assert {row.business_id for row in changelist.result_list} == {business.pk}


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_change_page_loads(superuser_client, data, model):
    obj = model.objects.first()
    assert superuser_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_add_page_loads_where_adding_is_allowed(superuser_client, superuser, rf, model):
    request = rf.get("/")
    request.user = superuser
    allowed = admin.site._registry[model].has_add_permission(request)
    assert superuser_client.get(url(model, "add")).status_code == (200 if allowed else 403)


# --- The consent ledger ------------------------------------------------------------------------------------------


@pytest.fixture
def event(data):
    return ConsentEvent.objects.filter(business=data[0].business).first()


def test_consent_event_cannot_be_added(superuser_client, event):
    assert superuser_client.get(url(ConsentEvent, "add")).status_code == 403
    assert superuser_client.post(url(ConsentEvent, "add"), {"kind": "opt_in"}).status_code == 403


def test_consent_event_change_page_is_read_only(superuser_client, event):
    response = superuser_client.get(url(ConsentEvent, "change", event.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert b'name="_save"' not in response.content
    assert b'name="_continue"' not in response.content


def test_consent_event_post_to_change_page_changes_nothing(superuser_client, event):
    before = ConsentEvent.objects.values().get(pk=event.pk)
    response = superuser_client.post(
        url(ConsentEvent, "change", event.pk), {"kind": "opt_out", "method": "admin", "phone_number": ""}
    )
    assert response.status_code == 403
    assert ConsentEvent.objects.values().get(pk=event.pk) == before


def test_consent_event_cannot_be_deleted(superuser_client, event):
    count = ConsentEvent.objects.count()
    assert superuser_client.get(url(ConsentEvent, "delete", event.pk)).status_code == 403
    assert superuser_client.post(url(ConsentEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    superuser_client.post(
        url(ConsentEvent, "changelist"), {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert ConsentEvent.objects.count() == count


def test_suppression_cannot_be_added_changed_or_deleted(superuser_client, data):
    suppression = Suppression.objects.get(business=data[0].business)
    assert superuser_client.get(url(Suppression, "add")).status_code == 403
    assert superuser_client.post(url(Suppression, "change", suppression.pk), {"reason": "manual"}).status_code == 403
    assert superuser_client.post(url(Suppression, "delete", suppression.pk), {"post": "yes"}).status_code == 403
    superuser_client.post(
        url(Suppression, "changelist"),
        {"action": "delete_selected", "_selected_action": [suppression.pk], "post": "yes"},
    )
    assert Suppression.objects.filter(pk=suppression.pk, reason=Suppression.Reason.STOP).exists()


# --- Subscribers ---------------------------------------------------------------------------------------------------


def test_subscriber_cannot_be_added(superuser_client, db):
    assert superuser_client.get(url(Subscriber, "add")).status_code == 403
    assert superuser_client.post(url(Subscriber, "add"), {"phone_number": CONSUMER}).status_code == 403
    assert not Subscriber.objects.exists()


def test_subscriber_status_cannot_be_changed_here(superuser_client, data):
    opted_out = Subscriber.objects.get(business=data[0].business, phone_number=OTHER_CONSUMER)
    response = superuser_client.post(
        url(Subscriber, "change", opted_out.pk),
        {"status": "subscribed", "name": "Renamed", "email": "", "notes": "", "tags": []},
    )
    assert response.status_code == 302
    opted_out.refresh_from_db()
    assert (opted_out.name, opted_out.status) == ("Renamed", Subscriber.Status.UNSUBSCRIBED)


def test_subscriber_tags_offered_and_accepted_are_its_own_business_only(superuser_client, data):
    tenant_a, tenant_b = data
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=CONSUMER)
    other_tag = Tag.objects.get(business=tenant_b.business)

    response = superuser_client.get(url(Subscriber, "change", subscriber.pk))
    offered = response.context["adminform"].form.fields["tags"].queryset
    assert set(offered) == set(Tag.objects.filter(business=tenant_a.business))
    own_tag = Tag.objects.get(business=tenant_a.business)
    assert f'<option value="{own_tag.pk}"'.encode() in response.content
    assert f'<option value="{other_tag.pk}"'.encode() not in response.content

    response = superuser_client.post(
        url(Subscriber, "change", subscriber.pk), {"name": "", "email": "", "notes": "", "tags": [other_tag.pk]}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "tags" in response.context["adminform"].form.errors
    assert not subscriber.tags.filter(pk=other_tag.pk).exists()


# --- Numbers and keywords --------------------------------------------------------------------------------------------


def keyword_form(number, **fields):
    return {"number": number.pk, "keyword": "PIZZA", "confirmation_text": "", "is_active": "on"} | fields


def test_keyword_added_here_goes_through_the_keyword_rules(superuser_client, tenant_a):
    response = superuser_client.post(url(Keyword, "add"), keyword_form(tenant_a.number, keyword="pizza"))
    assert response.status_code == 302
    keyword = Keyword.objects.get(number=tenant_a.number, keyword="PIZZA")
    assert keyword.business == tenant_a.business


def test_keyword_changed_here_is_saved_through_the_keyword_rules(superuser_client, tenant_a):
    form = keyword_form(tenant_a.number, keyword="slice")
    del form["is_active"]  # an unticked checkbox is not sent
    response = superuser_client.post(url(Keyword, "change", tenant_a.keyword.pk), form)
    assert response.status_code == 302
    tenant_a.keyword.refresh_from_db()
    assert (tenant_a.keyword.keyword, tenant_a.keyword.is_active) == ("SLICE", False)


@pytest.mark.parametrize(
    "fields, error_field",
    [
        ({"keyword": "STOP"}, "keyword"),
        ({"keyword": "two words"}, "keyword"),
        ({"keyword": "join"}, "keyword"),  # already a keyword on this number
        ({"confirmation_text": "Welcome! Deals every day."}, "confirmation_text"),  # no required disclosures
    ],
)
def test_keyword_that_the_api_would_refuse_is_refused_here(superuser_client, tenant_a, fields, error_field):
    count = Keyword.objects.count()
    response = superuser_client.post(url(Keyword, "add"), keyword_form(tenant_a.number, **fields))
    assert response.status_code == 200
    assert error_field in response.context["adminform"].form.errors
    assert Keyword.objects.count() == count


def test_keyword_cannot_be_moved_to_another_business_number(superuser_client, tenant_a, tenant_b):
    response = superuser_client.post(
        url(Keyword, "change", tenant_a.keyword.pk), keyword_form(tenant_b.number, keyword="JOIN")
    )
    assert response.status_code == 200
    assert "number" in response.context["adminform"].form.errors
    tenant_a.keyword.refresh_from_db()
    assert tenant_a.keyword.number == tenant_a.number


def test_sender_number_added_here_is_stored_in_e164(superuser_client, tenant_a):
    response = superuser_client.post(
        url(SenderNumber, "add"),
        {"business": tenant_a.business.pk, "phone_number": "(202) 555-0188", "messages_per_second": 1},
    )
    assert response.status_code == 302
    assert SenderNumber.objects.filter(business=tenant_a.business, phone_number="+12025550188").exists()


def test_sender_number_added_here_must_be_on_the_telnyx_account(superuser_client, tenant_a, fake_telnyx):
    fake_telnyx.own("+12025550188")
    response = superuser_client.post(
        url(SenderNumber, "add"),
        {"business": tenant_a.business.pk, "phone_number": "(312) 555-0001", "messages_per_second": 1},
    )
    assert response.status_code == 200
    assert "This number is not on your Telnyx account: buy or port it in the Telnyx portal first." in (
        response.content.decode()
    )
    assert not SenderNumber.objects.filter(phone_number="+13125550001").exists()

    number = tenant_a.number
    response = superuser_client.post(
        url(SenderNumber, "change", number.pk),
        {"phone_number": "+13125550001", "messages_per_second": 1},
    )
    assert response.status_code == 200 and "not on your Telnyx account" in response.content.decode()
    number.refresh_from_db()
    assert number.phone_number != "+13125550001"


def test_sender_number_keeps_its_business(superuser_client, tenant_a, tenant_b):
    number = SenderNumberFactory(business=tenant_a.business)
    response = superuser_client.post(
        url(SenderNumber, "change", number.pk),
        {"business": tenant_b.business.pk, "phone_number": number.phone_number, "messages_per_second": 5},
    )
    assert response.status_code == 302
    number.refresh_from_db()
    assert (number.business, number.messages_per_second) == (tenant_a.business, 5)


def test_campaign_admin_action_cancels(superuser_client, data):
    from campaigns.models import Campaign

    campaign = Campaign.objects.filter(business=data[0].business).get()
    response = superuser_client.post(
        url(Campaign, "changelist"), {"action": "cancel_campaigns", "_selected_action": [campaign.pk]}, follow=True
    )
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED


def test_the_admin_refuses_a_help_reply_without_the_disclosures(tenant_a):
    from django.forms.models import model_to_dict

    from accounts.admin import BusinessAdminForm

    data = model_to_dict(tenant_a.business)
    form = BusinessAdminForm(data={**data, "help_text": "Call us!"}, instance=tenant_a.business)
    assert not form.is_valid()
    assert "STOP" in " ".join(form.errors["help_text"])

    good = (
        f"{tenant_a.business.name}: help at 202-555-0100. Msg frequency varies. Msg & data rates may apply. "
        "Reply STOP to cancel."
    )
    form = BusinessAdminForm(data={**data, "phone": "+12025550100", "help_text": good}, instance=tenant_a.business)
    assert form.is_valid(), form.errors
