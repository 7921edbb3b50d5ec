"""Version 2 of the privacy policy: a section for California residents (CCPA), and where link tracking is disclosed.

Not a material change (the rights and practices it describes are the ones the service already had), so it is
published without notices, as `publish_policy` would publish it."""

import datetime

from django.db import migrations
from django.utils import timezone

EFFECTIVE = datetime.date(2026, 12, 3)
TEMPLATE = "privacy/privacy_v2.html"
CHANGES = (
    "Adds a section for California residents (CCPA): the categories of information collected, the rights to know, "
    "delete and correct, that we do not sell or share personal information, non-discrimination, how to make a "
    "request and authorised agents. Says where link tracking is disclosed."
)


def seed(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    PolicyDocument.objects.get_or_create(
        kind="privacy",
        version=2,
        defaults={
            "effective_on": EFFECTIVE,
            "material": False,
            "changes": CHANGES,
            "template_name": TEMPLATE,
            "published_at": timezone.now(),
        },
    )


def unseed(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    PolicyDocument.objects.filter(kind="privacy", version=2, template_name=TEMPLATE).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_policy_documents_v1")]

    operations = [migrations.RunPython(seed, unseed)]
