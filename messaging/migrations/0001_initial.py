"""Message and WebhookEvent, moved here from campaigns and from the SMS gateway app without touching their tables.

Both keep their tables (campaigns_message, sms_webhookevent): this migration only tells Django's state that the
models are messaging's now, and renames their content types so that permissions and admin history follow them. On a
new database the message table was created by campaigns' own migrations; the webhook table, whose app is gone, is
created here.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {("campaigns", "message"): ("messaging", "message"), ("sms", "webhookevent"): ("messaging", "webhookevent")}


def webhook_table_create_if_missing(apps, schema_editor):
    model = apps.get_model("messaging", "WebhookEvent")
    if model._meta.db_table not in schema_editor.connection.introspection.table_names():
        schema_editor.create_model(model)


def _content_types_rename(apps, pairs):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for (old_app, old_model), (new_app, new_model) in pairs:
        if not ContentType.objects.filter(app_label=new_app, model=new_model).exists():
            ContentType.objects.filter(app_label=old_app, model=old_model).update(app_label=new_app, model=new_model)


def content_types_move(apps, schema_editor):
    _content_types_rename(apps, MOVED.items())


def content_types_move_back(apps, schema_editor):
    _content_types_rename(apps, [(new, old) for old, new in MOVED.items()])


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0008_business_terms_and_privacy_urls'),
        ('campaigns', '0006_message_handoff_started'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('subscribers', '0005_form_hit_counter'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('direction', models.CharField(choices=[('inbound', 'Inbound'), ('outbound', 'Outbound')], max_length=8)),
                ('kind', models.CharField(choices=[('inbound', 'Inbound'), ('inbound_command', 'Inbound Command'), ('opt_in_request', 'Opt In Request'), ('opt_in_confirmation', 'Opt In Confirmation'), ('opt_out_confirmation', 'Opt Out Confirmation'), ('help_reply', 'Help Reply'), ('conversation', 'Conversation'), ('transactional', 'Transactional'), ('marketing', 'Marketing')], max_length=24)),
                ('phone_number', models.CharField(max_length=20)),
                ('phone_hash', models.CharField(max_length=64)),
                ('body', models.TextField()),
                ('status', models.CharField(choices=[('received', 'Received'), ('queued', 'Queued'), ('sending', 'Sending'), ('sent', 'Sent'), ('delivered', 'Delivered'), ('delivery_unconfirmed', 'Delivery Unconfirmed'), ('sending_failed', 'Sending Failed'), ('delivery_failed', 'Delivery Failed'), ('failed', 'Failed'), ('blocked', 'Blocked'), ('cancelled', 'Cancelled')], max_length=24)),
                ('send_after', models.DateTimeField(blank=True, null=True)),
                ('dispatched_at', models.DateTimeField(blank=True, null=True)),
                ('provider_message_id', models.CharField(blank=True, max_length=100)),
                ('error_code', models.CharField(blank=True, max_length=32)),
                ('error_detail', models.CharField(blank=True, max_length=500)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('handoff_started_at', models.DateTimeField(blank=True, null=True)),
                ('parts', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('cost', models.DecimalField(blank=True, decimal_places=4, max_digits=10, null=True)),
                ('cost_currency', models.CharField(blank=True, max_length=3)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('delivered_at', models.DateTimeField(blank=True, null=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('business', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='accounts.business')),
                ('campaign', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='campaigns.campaign')),
                ('sender_number', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='subscribers.sendernumber')),
            ],
            options={
                'db_table': 'campaigns_message',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['business', 'phone_hash', 'created_at'], name='campaigns_m_busines_304e9a_idx'), models.Index(fields=['business', 'status'], name='campaigns_m_busines_6361fc_idx'), models.Index(fields=['campaign', 'status'], name='campaigns_m_campaig_6ddb94_idx'), models.Index(condition=models.Q(('kind', 'inbound')), fields=['business', 'created_at'], name='message_inbox'), models.Index(condition=models.Q(('status', 'queued')), fields=['send_after'], name='message_queued_due')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('provider_message_id', ''), _negated=True), fields=('direction', 'provider_message_id'), name='message_unique_provider_id')],
            },
        ),
        migrations.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(max_length=20)),
                ('event_id', models.CharField(max_length=100)),
                ('event_type', models.CharField(max_length=64)),
                ('payload', models.JSONField()),
                ('received_at', models.DateTimeField(auto_now_add=True)),
                ('outcome', models.CharField(blank=True, max_length=64)),
                ('business', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='webhook_events', to='accounts.business')),
            ],
            options={
                'db_table': 'sms_webhookevent',
                'ordering': ['-received_at', '-id'],
                'indexes': [models.Index(fields=['received_at'], name='sms_webhook_receive_20f915_idx'), models.Index(condition=models.Q(('outcome', 'pending')), fields=['id'], name='webhook_event_pending')],
                'constraints': [models.UniqueConstraint(fields=('provider', 'event_id'), name='webhook_event_unique_provider_id')],
            },
        ),
        ]),
        migrations.RunPython(webhook_table_create_if_missing, migrations.RunPython.noop),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
