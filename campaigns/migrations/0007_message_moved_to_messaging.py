"""Message is messaging's now (messaging 0001): it leaves campaigns' state; its table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_message_handoff_started"),
        ("messaging", "0001_initial"),
        ("tracking", "0002_click_message_in_messaging"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Message")]),
    ]
