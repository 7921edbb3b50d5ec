"""Link tracking is disclosed where people opt in, as the privacy policy says: the sign-up page and a QR code's
desktop page say that links in the texts are shortened so clicks can be counted, while the business tracks links
(its latest campaign does; a business with no campaign yet has tracking's default, on)."""

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.models import Campaign
from tracking import services as tracking_services
from web import selectors

SENTENCE = "Links in our texts are shortened so we can count clicks."
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
)


def _campaign(tenant, *, track_links):
    campaign = campaign_services.campaign_create(
        business=tenant.business, name="Promo", body="Tony's Pizza: 2 for 1 tonight", sender_number=tenant.number
    )
    Campaign.objects.filter(pk=campaign.pk).update(track_links=track_links)
    return campaign


def _pages(tenant):
    code = tracking_services.qr_code_create(
        business=tenant.business, number=tenant.number, keyword=tenant.keyword, label="Front door"
    )
    join = Client().get(reverse("join", args=[tenant.business.slug]))
    scan = Client().get(reverse("qr-scan", args=[code.slug]), HTTP_USER_AGENT=DESKTOP)
    assert join.status_code == scan.status_code == 200
    return [join.content.decode(), scan.content.decode()]


@pytest.mark.parametrize(
    "history, tracks",
    [
        ([], True),  # no campaign yet: tracking is the default
        ([True], True),
        ([False], False),
        ([False, True], True),  # the latest campaign decides
        ([True, False], False),
    ],
)
def test_the_business_tracks_links_as_its_latest_campaign_does(tenant_a, history, tracks):
    for track_links in history:
        _campaign(tenant_a, track_links=track_links)

    assert selectors.business_tracks_links(business=tenant_a.business) is tracks
    for page in _pages(tenant_a):
        assert (SENTENCE in page) is tracks


def test_one_businesss_campaigns_do_not_decide_for_another(tenant_a, tenant_b):
    _campaign(tenant_b, track_links=False)

    assert selectors.business_tracks_links(business=tenant_a.business) is True
    assert all(SENTENCE in page for page in _pages(tenant_a))
    assert not any(SENTENCE in page for page in _pages(tenant_b))
