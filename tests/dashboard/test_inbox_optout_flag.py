"""The inbox flags an opt-out it understood from plain language, so the business sees how a text was read."""

import pytest
from django.urls import reverse

from tests.helpers import text_in

INBOX = reverse("dashboard:inbox")
CONSUMER = "+12025550143"
FLAG = "Opted out: understood &lsquo;please stop texting me&rsquo; as STOP"


def say(tenant, text, phone=CONSUMER):
    text_in(from_number=phone, to_number=tenant.number.phone_number, text=text)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_a_plain_language_opt_out_is_shown_flagged_to_every_role(client, tenant_a, role):
    say(tenant_a, "JOIN")
    say(tenant_a, "please stop texting me")
    client.force_login(getattr(tenant_a, role).user)
    html = client.get(INBOX).content.decode()
    assert FLAG in html
    assert '<p class="message-body">please stop texting me</p>' in html
    assert "Unsubscribed" in html


def test_a_bare_stop_and_ordinary_commands_stay_out_of_the_inbox(client, tenant_a):
    say(tenant_a, "JOIN")
    say(tenant_a, "STOP")
    say(tenant_a, "START")
    say(tenant_a, "Can we move the showing to Friday?", phone="+13105559876")
    client.force_login(tenant_a.member.user)
    html = client.get(INBOX).content.decode()
    assert "Can we move the showing to Friday?" in html
    assert '<p class="message-body">STOP' not in html and '<p class="message-body">JOIN' not in html
    assert "Opted out: understood" not in html


def test_the_flag_is_not_shown_to_another_business(client, tenant_a, tenant_b):
    say(tenant_a, "please stop texting me")
    client.force_login(tenant_b.owner.user)
    html = client.get(INBOX).content.decode()
    assert "please stop texting me" not in html and "Opted out: understood" not in html


def test_another_business_members_get_404_for_its_subscriber_reached_from_the_flag(client, tenant_a, tenant_b):
    from subscribers.models import Subscriber

    say(tenant_a, "JOIN")
    say(tenant_a, "please stop texting me")
    subscriber = Subscriber.objects.get(business=tenant_a.business, phone_number=CONSUMER)
    client.force_login(tenant_b.owner.user)
    assert client.get(reverse("dashboard:subscriber", args=[subscriber.pk])).status_code == 404


def test_the_inbox_needs_a_login(client, tenant_a):
    say(tenant_a, "please stop texting me")
    response = client.get(INBOX)
    assert response.status_code in (302, 403)
