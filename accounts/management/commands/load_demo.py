"""manage.py load_demo: a demo business with a number, a keyword and an owner login. Safe to run again."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Business, User
from accounts.services import business_create
from subscribers.models import Keyword, SenderNumber
from subscribers.services import keyword_create, number_create

DEMO_EMAIL = "owner@demo.nextalerts.local"
DEMO_PASSWORD = "demo-pizza-2026"
ADMIN_EMAIL = "admin@demo.nextalerts.local"
ADMIN_PASSWORD = "demo-admin-2026"
DEMO_NUMBER = "+12025550100"
DEMO_KEYWORD = "PIZZA"


class Command(BaseCommand):
    help = "Create (or show) the demo business, its number, keyword and owner login."

    def handle(self, *args, **options):
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(email=DEMO_EMAIL, password=DEMO_PASSWORD, full_name="Demo Owner")
            if not User.objects.filter(email=ADMIN_EMAIL).exists():
                User.objects.create_superuser(email=ADMIN_EMAIL, password=ADMIN_PASSWORD, full_name="Platform Admin")
            business = Business.objects.filter(memberships__user=user).first()
            if business is None:
                business = business_create(
                    name="Tony's Pizza",
                    owner=user,
                    address="1 Main St, Washington, DC",
                    support_contact="help@tonys.example",
                    time_zone="America/New_York",
                )
            number = SenderNumber.objects.filter(phone_number=DEMO_NUMBER).first() or number_create(
                business=business, phone_number=DEMO_NUMBER
            )
            if not Keyword.objects.filter(number=number, keyword__iexact=DEMO_KEYWORD).exists():
                keyword_create(business=business, number=number, keyword=DEMO_KEYWORD)
        self.stdout.write(
            "\n".join(
                [
                    "Demo business ready:",
                    f"  business  {business.name}",
                    f"  number    {number.phone_number}  (keyword {DEMO_KEYWORD})",
                    f"  owner     {DEMO_EMAIL} / {DEMO_PASSWORD}  (dashboard: http://127.0.0.1:8000/login/)",
                    f"  admin     {ADMIN_EMAIL} / {ADMIN_PASSWORD}  (http://127.0.0.1:8000/admin/)",
                    "  try       the dashboard's Phone simulator (http://127.0.0.1:8000/app/simulator/): text "
                    f"{DEMO_KEYWORD}, HELP or STOP to {number.phone_number}",
                ]
            )
        )
