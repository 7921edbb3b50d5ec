"""Version 1 of the privacy policy and the terms of service, so the pages work on a fresh database."""

import datetime

from django.db import migrations
from django.utils import timezone

EFFECTIVE = datetime.date(2026, 11, 22)
DOCUMENTS = [("privacy", "privacy/privacy.html"), ("terms", "privacy/terms.html")]


def seed(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    for kind, template_name in DOCUMENTS:
        PolicyDocument.objects.get_or_create(
            kind=kind,
            version=1,
            defaults={
                "effective_on": EFFECTIVE,
                "material": False,
                "changes": "",
                "template_name": template_name,
                "published_at": timezone.now(),
            },
        )


def unseed(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    PolicyDocument.objects.filter(version=1, template_name__in=[name for _kind, name in DOCUMENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_documents_and_requests")]

    operations = [migrations.RunPython(seed, unseed)]
