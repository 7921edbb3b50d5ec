"""Message and WebhookEvent moved to messaging without rewriting their tables: an upgrade of a database that holds
messages, clicks and webhook events keeps every row, every relation and the constraints, and Django's content types
follow the models."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.models import BillingWebhookEvent
from messaging.models import Message, WebhookEvent
from tracking.models import Click

# The last migrations before the move: messages in campaigns, webhook events in a table of the gone SMS app.
# Stripe's events shared the webhook table then.
BEFORE = [
    ("campaigns", "0006_message_handoff_started"),
    ("tracking", "0001_initial"),
    ("accounts", "0008_business_terms_and_privacy_urls"),
    ("messaging", None),
]

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="upgrades are run on PostgreSQL, as in production"
)


MOVED_APPS = {target[0] for target in BEFORE}


def _migrate(targets):
    """Migrate to `targets`; the models as they are then, every other app at its latest."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    others = [leaf for leaf in executor.loader.graph.leaf_nodes() if leaf[0] not in MOVED_APPS]
    return executor.loader.project_state([target for target in targets if target[1]] + others).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_an_upgrade_keeps_every_message_click_and_webhook_event():
    old = _migrate(BEFORE)
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    assert "campaigns_message" in tables and "sms_webhookevent" in tables
    # The content types an old database has (a test database's are recreated only when it is first built).
    ContentType.objects.get_or_create(app_label="campaigns", model="message")
    ContentType.objects.get_or_create(app_label="sms", model="webhookevent")

    Business = old.get_model("accounts", "Business")
    SenderNumber = old.get_model("subscribers", "SenderNumber")
    Campaign = old.get_model("campaigns", "Campaign")
    OldMessage = old.get_model("campaigns", "Message")
    OldClick = old.get_model("tracking", "Click")
    business = Business.objects.create(name="Upgrade Pizza", slug="upgrade-pizza")
    number = SenderNumber.objects.create(business=business, phone_number="+13125550100")
    campaign = Campaign.objects.create(business=business, name="Friday", body="2 for 1 tonight", sender_number=number)
    rows = [
        OldMessage.objects.create(
            business=business,
            direction="outbound",
            kind="marketing",
            sender_number=number,
            phone_number=f"+1312555{i:04d}",
            phone_hash=f"hash-{i}",
            body="2 for 1 tonight",
            status="delivered" if i % 2 else "sent",
            campaign=campaign,
            provider_message_id=f"telnyx-{i}",
        )
        for i in range(200)
    ]
    OldClick.objects.create(business=business, campaign=campaign, message=rows[7], url="https://upgrade.example/menu")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sms_webhookevent (provider, event_id, event_type, payload, received_at, outcome, business_id) "
            "VALUES ('telnyx', 'evt-1', 'message.received', '{\"data\": {}}', now(), 'opt_out', %s), "
            "('stripe', 'evt_1', 'invoice.paid', '{\"id\": \"evt_1\"}', now(), 'paid', %s)",
            [business.pk, business.pk],
        )

    _migrate(_latest())

    assert Message.objects.count() == 200
    moved = Message.objects.select_related("campaign", "sender_number").get(provider_message_id="telnyx-7")
    assert (moved.pk, moved.campaign.name, moved.sender_number.phone_number) == (rows[7].pk, "Friday", "+13125550100")
    assert moved.status == Message.Status.DELIVERED
    assert Click.objects.get().message == moved
    assert (
        list(Message.objects.filter(campaign_id=campaign.pk, status="sent").values_list("pk", flat=True))
        == [row.pk for row in rows if row.status == "sent"][::-1]
    )  # newest first, as the model orders
    stripe = BillingWebhookEvent.objects.get()  # Stripe's events moved to billing's own table
    assert (stripe.event_id, stripe.outcome, stripe.payload, stripe.business_id) == (
        "evt_1",
        "paid",
        {"id": "evt_1"},
        business.pk,
    )
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.outcome, event.business_id) == ("evt-1", "opt_out", business.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(provider="telnyx", event_id="evt-1", event_type="message.received", payload={})
    with pytest.raises(IntegrityError), transaction.atomic():  # one row per provider message id, as before
        Message.objects.create(
            business_id=business.pk, direction="outbound", kind="marketing", phone_number="+13125550000",
            phone_hash="x", body="again", status="sent", provider_message_id="telnyx-7",
        )  # fmt: skip
    assert ContentType.objects.get_for_model(Message).app_label == "messaging"
    assert not ContentType.objects.filter(app_label="campaigns", model="message").exists()
    assert ContentType.objects.get_for_model(WebhookEvent).app_label == "messaging"

    # The new rows go on from the old ids: the table, its sequence and its indexes are the same ones.
    new = Message.objects.create(
        business_id=business.pk, direction="inbound", kind="inbound", sender_number_id=number.pk,
        phone_number="+13125559999", phone_hash="y", body="hi", status="received",
    )  # fmt: skip
    assert new.pk > max(row.pk for row in rows)


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_rolled_back_to_the_previous_release():
    ContentType.objects.get_for_model(Message)
    _migrate(BEFORE)
    assert ContentType.objects.filter(app_label="campaigns", model="message").exists()
    with connection.cursor() as cursor:
        assert "campaigns_message" in connection.introspection.table_names(cursor)
    _migrate(_latest())
    assert ContentType.objects.get_for_model(Message).app_label == "messaging"
