"""Publish a version of the privacy policy or the terms of service, creating its row first when options describe it.

    manage.py publish_policy privacy 2 --effective 2027-01-15 --template privacy/privacy_v2.html \\
        --material --changes "We now use Acme for email delivery."

Publishing a material change gives every customer user an in-app notice and one email; running it again reaches only
the people not reached yet.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from privacy.models import PolicyDocument
from privacy.policy import policy_document_check, policy_publish


class Command(BaseCommand):
    help = "Publish a version of the privacy policy or the terms of service."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=PolicyDocument.Kind.values)
        parser.add_argument("version", type=int)
        parser.add_argument("--effective", type=datetime.date.fromisoformat, help="YYYY-MM-DD (new versions)")
        parser.add_argument("--template", help="The template holding the text (new versions)")
        parser.add_argument("--material", action="store_true", help="Customers must be told and acknowledge it")
        parser.add_argument("--changes", default="", help="What changed, in plain words")

    def handle(self, *args, kind, version, effective, template, material, changes, **options):
        document = PolicyDocument.objects.filter(kind=kind, version=version).first()
        if document is None:
            if not (effective and template):
                raise CommandError(f"{kind} v{version} does not exist yet: give --effective and --template.")
            if PolicyDocument.objects.filter(kind=kind, version__gt=version).exists():
                raise CommandError(f"A newer {kind} version exists; versions only go up.")
            document = PolicyDocument(
                kind=kind, version=version, effective_on=effective, template_name=template, material=material
            )
            document.changes = changes
        elif document.published_at is None:
            # Still a draft: the options may complete it.
            for name, value in (("effective_on", effective), ("template_name", template), ("changes", changes)):
                if value:
                    setattr(document, name, value)
            document.material = document.material or material
        elif effective or template or material or changes:
            raise CommandError(f"{document} is already published; its details can no longer change.")
        try:
            document.full_clean()
            policy_document_check(document=document)  # before saving, so a mistake leaves no half-made row
            if document.pk is None or document.published_at is None:
                document.save()
            counts = policy_publish(document=document)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(
            f"{document} published (effective {document.effective_on:%Y-%m-%d}). "
            f"Notices created: {counts['notices']}, emailed: {counts['emailed']}, failed: {counts['email_failed']}."
        )
