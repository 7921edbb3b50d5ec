"""A launch's dispatch reads its messages a page of ids at a time (campaigns.services.DISPATCH_PAGE), so its memory
does not grow with the audience: every due message is still queued once, in the workers' batches, and the ones
waiting for quiet hours are left for the dispatcher."""

from datetime import UTC, datetime

import pytest

from campaigns import services
from messaging import services as messaging_services
from messaging.models import Message
from tests.helpers import launch_campaign, tasks_held, text_in

DAYTIME = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)  # 13:00 in New York, 10:00 in California


@pytest.fixture
def audience(tenant_a):
    phones = [f"+1212555{n:04d}" for n in range(7)] + [f"+1305555{n:04d}" for n in range(3)]
    for phone in phones:
        text_in(from_number=phone, to_number=tenant_a.number.phone_number, text="JOIN")
    return tenant_a


def _launched(tenant, now):
    campaign = services.campaign_create(
        business=tenant.business, name="Promo", body="Pizza night", sender_number=tenant.number
    )
    return launch_campaign(campaign, now)


def _queued_ids(held):
    return [message_id for name, args, _eta in held if name == "messaging.send_messages" for message_id in args[0]]


def test_a_dispatch_over_several_pages_queues_every_due_message_once(audience, monkeypatch):
    monkeypatch.setattr(services, "DISPATCH_PAGE", 3)
    monkeypatch.setattr(messaging_services, "BATCH_SIZE", 2)
    campaign = _launched(audience, DAYTIME)
    with tasks_held() as held:
        assert services.campaign_dispatch(campaign_id=campaign.pk, now=DAYTIME) == 10
    ids = _queued_ids(held)
    assert sorted(ids) == sorted(campaign.messages.values_list("pk", flat=True))
    assert len(ids) == len(set(ids))
    assert all(len(args[0]) <= 2 for _name, args, _eta in held)
    assert not campaign.messages.filter(dispatched_at__isnull=True).exists()
    with tasks_held() as again:
        assert services.campaign_dispatch(campaign_id=campaign.pk, now=DAYTIME) == 0  # nothing is queued twice
    assert again == []


def test_messages_waiting_for_quiet_hours_are_not_dispatched(audience, monkeypatch):
    """At 20:30 in Florida (quiet from 20:00) its three wait; New York's seven go, over pages of three."""
    monkeypatch.setattr(services, "DISPATCH_PAGE", 3)
    late = datetime(2026, 1, 15, 1, 30, tzinfo=UTC)  # 20:30 in New York and Florida
    campaign = _launched(audience, late)
    waiting = set(campaign.messages.filter(send_after__isnull=False).values_list("phone_number", flat=True))
    assert {phone[:5] for phone in waiting} == {"+1305"} and len(waiting) == 3
    with tasks_held() as held:
        dispatched = services.campaign_dispatch(campaign_id=campaign.pk, now=late)
    queued = set(Message.objects.filter(pk__in=_queued_ids(held)).values_list("phone_number", flat=True))
    assert dispatched == len(queued) == 10 - len(waiting)
    assert not queued & waiting


def test_a_business_that_allows_no_marketing_text_a_day_gets_none(audience):
    audience.business.marketing_messages_per_day = 0
    audience.business.save()
    campaign = _launched(audience, DAYTIME)
    assert (campaign.messages.count(), campaign.skipped_frequency, campaign.audience_size) == (0, 10, 10)
