"""Seeds the business the API fuzz run (.ci/api-fuzz) acts for, and prints an owner's API token.

The demo business and its history (load_demo), plus a campaign and a message whose sender number was deleted since,
so the run also reads the answers in which those fields are null. Run with `manage.py shell < .ci/api_fuzz_seed.py`.
"""

from django.core.management import call_command

from accounts.models import User
from accounts.services import api_token_create
from campaigns import services as campaign_services
from devtools.management.commands.load_demo import DEMO_EMAIL
from messaging.models import Message
from subscribers.services import number_create, number_delete

call_command("load_demo", verbosity=0)
owner = User.objects.get(email=DEMO_EMAIL)
business = owner.memberships.get().business
gone = number_create(business=business, phone_number="+12025550188")
campaign = campaign_services.campaign_create(
    business=business,
    created_by=owner,
    name="Sent from a number since deleted",
    body="Hello from Demo",
    sender_number=gone,
)
# One of the demo campaign's texts, as if it had gone out from that number.
Message.objects.filter(pk=Message.objects.filter(business=business).order_by("pk").values("pk")[:1]).update(
    sender_number=gone
)
number_delete(instance=gone)
print(api_token_create(user=owner, business=business, name="api-fuzz")[1])
