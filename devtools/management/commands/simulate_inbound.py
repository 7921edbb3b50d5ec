"""manage.py simulate_inbound --from +1... --to +1... TEXT: act as if a consumer texted a number (local demos).

It goes through the same normalised path as a verified Telnyx webhook, minus the signature.
"""

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from messaging.inbound import inbound_message_handle
from messaging.messages import InboundMessage
from nextalerts.phones import InvalidPhoneNumber, to_e164


class Command(BaseCommand):
    help = "Simulate a consumer's text to one of your numbers (STOP, HELP, a keyword...)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_number", required=True, help="The consumer's phone, E.164.")
        parser.add_argument("--to", dest="to_number", required=True, help="The business's number, E.164.")
        parser.add_argument("text", help="What the consumer texts.")

    def handle(self, *args, from_number, to_number, text, **options):
        try:
            inbound = InboundMessage(
                provider_message_id=f"simulated-{uuid.uuid4()}",
                from_number=to_e164(from_number),
                to_number=to_e164(to_number),
                text=text,
                received_at=timezone.now(),
            )
        except InvalidPhoneNumber as exc:
            raise CommandError(str(exc)) from exc
        with transaction.atomic():
            outcome, _business = inbound_message_handle(message=inbound)
        self.stdout.write(f"Handled as: {outcome}")
