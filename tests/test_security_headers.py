"""Every response carries a strict Content-Security-Policy and a Permissions-Policy, and no page holds the inline
code (scripts, event-handler attributes, style elements or attributes) that policy would block.

The pages are the ones tests/test_no_raw_markup.py walks from the URL configuration: every dashboard page and every
public page, plus the API, the admin and an error page.
"""

from html.parser import HTMLParser

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.services import invitation_create
from privacy.models import PolicyDocument, PolicyNotice
from tests.dashboard.test_formats_everywhere import _pages
from tests.helpers import api_client
from tests.test_no_raw_markup import NOW, _marked_business, _public_pages

DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def policy_problems(response) -> list[str]:
    """What is missing or too loose in a response's two headers."""
    header = response.get("Content-Security-Policy")
    if not header:
        return ["no Content-Security-Policy"]
    csp, found = directives(header), []
    for name, expected in (
        ("default-src", ["'self'"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'none'"]),
        ("frame-ancestors", ["'none'"]),
    ):
        if csp.get(name) != expected:
            found.append(f"{name} is {csp.get(name)}, not {expected}")
    for name in ("script-src", "style-src"):
        if not csp.get(name) or {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(csp[name]):
            found.append(f"{name} is {csp.get(name)}")
    if "'self'" not in csp.get("form-action", []) or "*" in csp.get("form-action", []):
        found.append(f"form-action is {csp.get('form-action')}")
    permissions = response.get("Permissions-Policy", "")
    found += [
        f"Permissions-Policy allows {feature}" for feature in DENIED_FEATURES if f"{feature}=()" not in permissions
    ]
    return found


class _InlineCode(HTMLParser):
    """Collects what a strict CSP blocks: <script> without src, on*="..." handlers, <style>, style="..." and
    javascript: addresses."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        # Data for a script (json_script) is not code: the browser never runs it, whatever the policy.
        if tag == "script" and not names.get("src") and names.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


def test_the_checks_catch_what_they_are_for():
    assert inline_code(
        '<script>x()</script><img src=x onerror="y()"><style>p{}</style><p style="color:red">'
        '<a href="javascript:z()">z</a><script src="/static/js/a.js"></script>'
        '<script type="application/json">{}</script>'
    ) == ["inline <script>", "<img onerror=…>", "<style> element", '<p style="color:red">', "<a href=javascript:…>"]
    loose = Client().get("/healthz")
    loose["Content-Security-Policy"] = "default-src 'self'; script-src 'self' 'unsafe-inline'"
    loose["Permissions-Policy"] = "camera=()"
    assert any(problem.startswith("script-src") for problem in policy_problems(loose))
    assert "Permissions-Policy allows microphone" in policy_problems(loose)


@pytest.mark.django_db
def test_every_page_answers_with_the_policies_and_holds_no_inline_code(client, settings):
    with time_machine.travel(NOW, tick=False):
        owner, number, keyword, subscriber, stopped, qr, sent, draft = _marked_business()
        _invitation, token = invitation_create(
            business=owner.business, email="invited@acme.example", role=Role.MEMBER, invited_by=owner.user
        )
        document = PolicyDocument.objects.create(
            kind="privacy",
            version=99,
            effective_on=NOW.date(),
            material=True,
            changes="New",
            template_name="privacy/privacy.html",
        )
        notice = PolicyNotice.objects.create(document=document, user=owner.user)
        client.force_login(owner.user)
        urls = dict(_pages(number, keyword, subscriber, stopped, qr, sent, draft))
        urls.update(_public_pages(owner.business, qr, token, notice))
        urls.update({"api-docs-script": reverse("api-docs") + "?script=", "admin": reverse("admin:login")})
        headers, code = {}, {}
        for name, url in urls.items():
            settings.DEBUG = name.startswith("simulator")  # the phone simulator exists on a demo server only
            response = client.get(url)
            headers[name] = policy_problems(response)
            # The evidence file is a download, opened from the disk where no header reaches it: it keeps its styles
            # inline so that it reads the same in ten years. Everything a browser shows from the site has none.
            if response["Content-Type"].startswith("text/html") and name != "evidence-export":
                code[name] = inline_code(response.content.decode())
        settings.DEBUG = False
        headers["api"] = policy_problems(api_client(owner).get(reverse("subscriber-list")))
        headers["not found"] = policy_problems(Client().get("/no-such-page/"))
    assert {name: problems for name, problems in headers.items() if problems} == {}
    assert {name: found for name, found in code.items() if found} == {}


def test_the_error_page_holds_no_inline_code_either():
    assert inline_code(render_to_string("500.html")) == []
