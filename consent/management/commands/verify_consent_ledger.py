"""manage.py verify_consent_ledger [--business ID ...]: recompute every business's hash chain; exit 1 on a break."""

from django.core.management.base import BaseCommand, CommandError

from consent.models import ConsentEvent
from consent.selectors import ledger_verify


class Command(BaseCommand):
    help = "Verify the consent ledger's hash chains and report any edited, missing or re-linked row."

    def add_arguments(self, parser):
        parser.add_argument("--business", type=int, action="append", help="Only this business id (repeatable).")

    def handle(self, *args, business=None, **options):
        breaks = ledger_verify(business_ids=business)
        events = ConsentEvent.objects.filter(business_id__in=business) if business else ConsentEvent.objects.all()
        total = events.count()
        for b in breaks:
            self.stderr.write(f"business {b.business_id} event #{b.sequence}: {b.problem}")
        if breaks:
            raise CommandError(f"{len(breaks)} break(s) found in {total} consent events; see above.")
        noun = "event" if total == 1 else "events"
        self.stdout.write(self.style.SUCCESS(f"Consent ledger intact: {total} {noun} verified."))
