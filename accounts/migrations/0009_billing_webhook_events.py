"""Stripe's events get a table of their own: the ones stored so far move out of the Telnyx webhook table."""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = "provider, event_id, event_type, payload, received_at, outcome, business_id"
TO_BILLING = [
    f"INSERT INTO accounts_billingwebhookevent ({COLUMNS}) SELECT {COLUMNS} FROM sms_webhookevent "
    "WHERE provider = 'stripe'",
    "DELETE FROM sms_webhookevent WHERE provider = 'stripe'",
]
BACK = [
    f"INSERT INTO sms_webhookevent ({COLUMNS}) SELECT {COLUMNS} FROM accounts_billingwebhookevent",
    "DELETE FROM accounts_billingwebhookevent",
]


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_business_terms_and_privacy_urls'),
        ('messaging', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='BillingWebhookEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(max_length=20)),
                ('event_id', models.CharField(max_length=100)),
                ('event_type', models.CharField(max_length=64)),
                ('payload', models.JSONField()),
                ('received_at', models.DateTimeField(auto_now_add=True)),
                ('outcome', models.CharField(blank=True, max_length=64)),
                ('business', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='billing_webhook_events', to='accounts.business')),
            ],
            options={
                'ordering': ['-received_at', '-id'],
                'abstract': False,
                'indexes': [models.Index(fields=['received_at'], name='billing_webhook_received')],
                'constraints': [models.UniqueConstraint(fields=('provider', 'event_id'), name='billing_webhook_event_unique_provider_id')],
            },
        ),
        migrations.RunSQL(TO_BILLING, BACK),
    ]
