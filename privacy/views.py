"""The public policy pages: the privacy policy at /privacy/ and the terms of service at /terms/.

Both are linked from every consumer-facing page (the QR landing page, the hosted opt-in form's disclosure), so they
need no login and set no cookies. The words live in templates/privacy/; what they say about the product is checked
against the code in tests/privacy/test_pages.py. When the text changes in substance, bump the document's version and
effective date here.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe


@dataclass(frozen=True)
class Document:
    title: str
    version: int
    effective: date


PRIVACY_POLICY = Document(title="Privacy policy", version=1, effective=date(2026, 11, 22))
TERMS_OF_SERVICE = Document(title="Terms of service", version=1, effective=date(2026, 11, 22))

# The operator of a deployment puts its own address here (or sets PRIVACY_CONTACT_EMAIL in settings); while the
# placeholder is in use the pages say so.
PLACEHOLDER_CONTACT_EMAIL = "privacy@nextalerts.example"


def _context(document: Document) -> dict:
    contact = getattr(settings, "PRIVACY_CONTACT_EMAIL", "") or PLACEHOLDER_CONTACT_EMAIL
    return {
        "document": document,
        "contact_email": contact,
        "contact_is_placeholder": contact == PLACEHOLDER_CONTACT_EMAIL,
        "privacy_policy": PRIVACY_POLICY,
        "terms_of_service": TERMS_OF_SERVICE,
    }


@require_safe
def privacy_policy(request):
    return render(request, "privacy/privacy.html", _context(PRIVACY_POLICY))


@require_safe
def terms_of_service(request):
    return render(request, "privacy/terms.html", _context(TERMS_OF_SERVICE))
