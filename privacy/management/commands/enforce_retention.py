"""manage.py enforce_retention [--dry-run]: run the daily retention job now, or list what it would delete."""

from django.core.management.base import BaseCommand, CommandError

from privacy.retention import retention_enforce, retention_rules
from privacy.tasks import enforce_retention


class Command(BaseCommand):
    help = "Delete what the retention periods say is due: old texts, webhook notices, audit log, archives, businesses."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted; change nothing.")

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            counts = retention_enforce(dry_run=True)
        else:
            # Through the task's body, so that the run takes the same lock as the scheduled one.
            counts = enforce_retention()
            if "skipped" in counts:
                raise CommandError("Another retention run is in progress; nothing was deleted. Try again later.")
        self.stdout.write("Would delete (dry run, nothing changed):" if dry_run else "Deleted:")
        rules = retention_rules()
        for key, count in counts.items():
            self.stdout.write(f"  {key}: {count} - {rules.get(key, '')}")
