"""Deleting a business: sending and logins stop at once, the owner can cancel until the purge."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase

from accounts.models import AuditEvent, Business
from campaigns import services as campaign_services
from campaigns.models import Campaign
from consent.policy import SendKind, can_send
from messaging import services as messaging_services
from messaging.backends import locmem
from messaging.models import Message
from privacy import services
from privacy.models import DataRequest
from tests.helpers import api_client, send_due, text_in

PHONE = "+12025550143"
DAYTIME = datetime(2026, 1, 14, 17, 0, tzinfo=UTC)  # noon in New York: inside every quiet-hours window


@pytest.fixture
def subscribed(tenant_a):
    text_in(from_number=PHONE, to_number=tenant_a.number.phone_number, text="JOIN")
    locmem.outbox.clear()
    return tenant_a


def test_deletion_marks_the_business_and_schedules_the_purge(tenant_a, settings):
    settings.RETENTION_DELETED_BUSINESS_DAYS = 30
    owner = tenant_a.owner.user
    data_request = services.business_deletion_request(business=tenant_a.business, actor=owner)
    business = tenant_a.business
    assert business.status == Business.Status.DELETED
    assert business.deletion_requested_by == owner and business.deletion_requested_at
    assert (data_request.kind, data_request.subject, data_request.status) == ("deletion", "business", "scheduled")
    assert services.business_purge_date(business=business) == business.deletion_requested_at + timedelta(days=30)
    assert list(data_request.events.values_list("action", flat=True)) == ["scheduled"]
    assert AuditEvent.objects.filter(action="deletion_requested", business=business, actor=owner).exists()
    with pytest.raises(ValidationError):
        services.business_deletion_request(business=business, actor=owner)


def test_nothing_is_sent_after_deletion_not_even_queued_texts_or_scheduled_campaigns(subscribed):
    tenant = subscribed
    with TestCase.captureOnCommitCallbacks(execute=False):
        queued = messaging_services.message_queue(
            business=tenant.business,
            sender_number=tenant.number,
            phone=PHONE,
            kind=SendKind.TRANSACTIONAL,
            body="Your order is ready",
        )
    campaign = Campaign.objects.create(
        business=tenant.business,
        name="Later",
        body="Sale tomorrow",
        sender_number=tenant.number,
        status=Campaign.Status.SCHEDULED,
        send_at=DAYTIME - timedelta(minutes=1),
    )
    assert can_send(tenant.business, PHONE, "marketing")

    services.business_deletion_request(business=tenant.business, actor=tenant.owner.user)

    assert not can_send(tenant.business, PHONE, "marketing")
    assert not can_send(tenant.business, PHONE, "transactional")
    with TestCase.captureOnCommitCallbacks(execute=True):
        campaign_services.campaigns_launch_due(now=DAYTIME)
        send_due(DAYTIME)
    assert locmem.outbox == []
    queued.refresh_from_db()
    assert queued.status == Message.Status.BLOCKED
    assert not Message.objects.filter(campaign=campaign, status__in=["sent", "delivered", "sending"]).exists()


def test_logins_stop_for_the_dashboard_and_the_api(tenant_a, client):
    api = api_client(tenant_a.owner)
    assert api.get("/api/v1/suppressions/").status_code == 200
    services.business_deletion_request(business=tenant_a.business, actor=tenant_a.owner.user)

    assert api.get("/api/v1/suppressions/").status_code in (401, 403)
    for membership in (tenant_a.owner, tenant_a.member):
        client.force_login(membership.user)
        response = client.get("/app/")
        assert response.status_code == 302 and response["Location"].endswith("/no-business/")
    # Where the owner lands, the way to take the deletion back.
    client.force_login(tenant_a.owner.user)
    assert "cancel the deletion" in client.get("/no-business/").content.decode()


def test_cancel_restores_the_business_and_closes_the_request(subscribed):
    tenant = subscribed
    owner = tenant.owner.user
    data_request = services.business_deletion_request(business=tenant.business, actor=owner)
    services.business_deletion_cancel(business=tenant.business, actor=owner)

    business = tenant.business
    assert business.status == Business.Status.ACTIVE
    assert business.deletion_requested_at is None and business.deletion_requested_by is None
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.CANCELLED and data_request.handled_by == owner
    assert list(data_request.events.values_list("action", flat=True)) == ["scheduled", "cancelled"]
    assert AuditEvent.objects.filter(action="deletion_cancelled", business=business).exists()
    assert can_send(business, PHONE, "marketing")
    with pytest.raises(ValidationError):
        services.business_deletion_cancel(business=business, actor=owner)


def test_a_purged_business_cannot_be_cancelled_and_its_request_completes(tenant_a):
    owner = tenant_a.owner.user
    data_request = services.business_deletion_request(business=tenant_a.business, actor=owner)
    assert services.business_deletion_complete(business=tenant_a.business) == 1
    Business.objects.filter(pk=tenant_a.business.pk).update(purged_at=DAYTIME)
    tenant_a.business.refresh_from_db()
    data_request.refresh_from_db()
    assert data_request.status == DataRequest.Status.COMPLETED and data_request.completed_at
    assert list(data_request.events.values_list("action", flat=True)) == ["scheduled", "purged"]
    with pytest.raises(ValidationError):
        services.business_deletion_cancel(business=tenant_a.business, actor=owner)


def test_cancel_is_refused_once_the_purge_is_due(tenant_a, settings):
    """The retention job purges in several transactions: once it may have started, the deletion stands."""
    import time_machine

    services.business_deletion_request(business=tenant_a.business, actor=tenant_a.owner.user)
    due = tenant_a.business.deletion_requested_at + timedelta(days=settings.RETENTION_DELETED_BUSINESS_DAYS)
    with time_machine.travel(due), pytest.raises(ValidationError, match="can no longer be cancelled"):
        services.business_deletion_cancel(business=tenant_a.business, actor=tenant_a.owner.user)
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.status == Business.Status.DELETED

    with time_machine.travel(due - timedelta(seconds=1)):  # a second earlier, it still could be
        services.business_deletion_cancel(business=tenant_a.business, actor=tenant_a.owner.user)
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.status == Business.Status.ACTIVE
