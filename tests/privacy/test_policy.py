"""Versioned policy documents: the current version is served, earlier ones stay readable, and a material change
reaches every customer user as a dashboard notice until acknowledged, and as exactly one email."""

import datetime
import html as htmllib
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Business
from privacy import policy
from privacy.models import PolicyDocument, PolicyNotice
from tests.factories import MembershipFactory, UserFactory

CHANGES = "We now keep message logs for 6 months instead of 12."


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _text(path: str) -> str:
    """What a reader sees on the page at `path`."""
    markup = Client().get(path).content.decode()
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _draft(kind="privacy", version=2, *, material=True, effective=None, changes=CHANGES) -> PolicyDocument:
    return PolicyDocument.objects.create(
        kind=kind,
        version=version,
        effective_on=effective or timezone.localdate(),
        material=material,
        changes=changes,
        template_name=f"privacy/{kind}.html",
    )


def _all_customer_users(*tenants):
    return {m.user for t in tenants for m in (t.owner, t.admin, t.member)}


# --- serving versions -------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _version_1_only(request):
    """These tests publish versions of their own on top of version 1 of each document; the later versions the
    migrations publish (tests/privacy/test_policy_versions.py covers them) are set aside."""
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        PolicyDocument.objects.filter(version__gt=1).delete()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["privacy", "terms"])
def test_version_1_is_served_at_both_addresses(kind):
    document = policy.policy_current(kind=kind)
    assert (document.version, document.effective_on, document.material) == (1, datetime.date(2026, 11, 22), False)
    assert document.template_name == f"privacy/{kind}.html"
    for path in (f"/{kind}/", f"/{kind}/v1/"):
        assert Client().get(path).status_code == 200
        assert "Version 1 — effective 22 November 2026" in _text(path)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/privacy/v2/", "/privacy/v0/", "/terms/v99999999999/", "/privacy/vx/"])
def test_unknown_or_unpublished_versions_are_not_found(path):
    _draft()  # a draft v2 is not public
    assert Client().get(path).status_code == 404
    assert "Version 1 —" in _text("/privacy/")


@pytest.mark.django_db
def test_a_published_material_version_replaces_the_current_one_and_says_what_changed(tenant_a):
    policy.policy_publish(document=_draft())

    current = _text("/privacy/")
    assert f"Version 2 — effective {timezone.localdate():%-d %B %Y}" in current
    assert "What changed in version 2" in current and CHANGES in current
    assert 'href="/privacy/v1/"' in Client().get("/privacy/").content.decode()  # earlier versions stay readable

    earlier = _text("/privacy/v1/")
    assert "Version 1 —" in earlier and "This is an earlier version." in earlier
    assert "What changed" not in earlier
    assert "Version 1 —" in _text("/terms/")  # the other document is untouched


@pytest.mark.django_db
def test_a_version_published_ahead_of_its_date_is_announced_not_applied(tenant_a):
    later = timezone.localdate() + datetime.timedelta(days=30)
    policy.policy_publish(document=_draft(effective=later))

    current = _text("/privacy/")
    assert "Version 1 —" in current
    assert f"A new version takes effect on {later:%-d %B %Y}" in current
    upcoming = _text("/privacy/v2/")
    assert f"This version takes effect on {later:%-d %B %Y}" in upcoming


# --- publishing -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_material_publish_notifies_every_customer_user_once(tenant_a, tenant_b):
    outsider = UserFactory()  # no business: not a customer user
    inactive = MembershipFactory(business=tenant_a.business).user
    inactive.is_active = False
    inactive.save()
    gone = MembershipFactory(business=Business.objects.create(name="Closed", slug="closed", status="deleted")).user
    document = _draft()

    counts = policy.policy_publish(document=document)

    customers = _all_customer_users(tenant_a, tenant_b)
    notices = PolicyNotice.objects.filter(document=document)
    assert {n.user for n in notices} == customers
    assert {outsider, inactive, gone}.isdisjoint({n.user for n in notices})
    assert counts == {"notices": 6, "emailed": 6, "email_failed": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in customers)
    assert all(n.emailed_at and n.acknowledged_at is None for n in notices)
    message = mail.outbox[0]
    assert "privacy policy" in message.subject.lower()
    assert CHANGES in message.body
    assert "/policy-updates/" in message.body and "/privacy/v2/" in message.body
    assert document.published_at is not None


@pytest.mark.django_db
def test_publishing_twice_sends_no_second_email_and_keeps_the_publication_time(tenant_a):
    document = _draft()
    policy.policy_publish(document=document)
    first = document.published_at
    assert len(mail.outbox) == 3

    again = policy.policy_publish(document=document)
    call_command("publish_policy", "privacy", "2", stdout=open("/dev/null", "w"))

    assert len(mail.outbox) == 3
    assert again == {"notices": 0, "emailed": 0, "email_failed": 0}
    document.refresh_from_db()
    assert document.published_at == first


@pytest.mark.django_db
def test_a_run_after_a_failure_reaches_only_the_missing_people_and_newcomers_need_no_notice(tenant_a):
    document = _draft()
    policy.policy_publish(document=document)
    PolicyNotice.objects.filter(user=tenant_a.member.user).delete()  # as if their row had not been made
    newcomer = MembershipFactory(business=tenant_a.business).user  # signed up after, accepting this version
    mail.outbox.clear()

    policy.policy_publish(document=document)

    assert [m.to for m in mail.outbox] == [[tenant_a.member.user.email]]
    assert not PolicyNotice.objects.filter(user=newcomer).exists()


@pytest.mark.django_db
def test_a_failed_email_is_retried_by_the_next_run(tenant_a, monkeypatch):
    document = _draft()
    from privacy import policy as module

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(module, "send_mail", broken)
    counts = policy.policy_publish(document=document)
    assert counts["email_failed"] == 3
    assert not PolicyNotice.objects.filter(emailed_at__isnull=False).exists()

    monkeypatch.undo()
    assert policy.policy_publish(document=document)["emailed"] == 3
    assert len(mail.outbox) == 3


@pytest.mark.django_db
def test_a_non_material_version_notifies_nobody(tenant_a):
    policy.policy_publish(document=_draft(material=False, changes="Typos fixed."))
    assert not PolicyNotice.objects.exists()
    assert mail.outbox == []
    client = Client()
    client.force_login(tenant_a.member.user)
    assert "Review and accept" not in client.get(reverse("dashboard:overview")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error_field"),
    [({"changes": ""}, "changes"), ({"template_name": "privacy/missing.html"}, "template_name")],
)
def test_a_version_cannot_be_published_incomplete(tenant_a, fields, error_field):
    document = _draft()
    PolicyDocument.objects.filter(pk=document.pk).update(**fields)
    document.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        policy.policy_publish(document=document)
    assert error_field in exc.value.message_dict
    document.refresh_from_db()
    assert document.published_at is None and not PolicyNotice.objects.exists() and mail.outbox == []


@pytest.mark.django_db
def test_the_command_creates_and_publishes_a_version(tenant_a):
    call_command(
        "publish_policy",
        "terms",
        "2",
        "--effective",
        timezone.localdate().isoformat(),
        "--template",
        "privacy/terms.html",
        "--material",
        "--changes",
        "New fees section.",
        stdout=open("/dev/null", "w"),
    )
    document = PolicyDocument.objects.get(kind="terms", version=2)
    assert document.published_at and document.material
    assert PolicyNotice.objects.filter(document=document).count() == 3
    assert "Version 2 —" in _text("/terms/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ["privacy", "2"],  # no such version, and nothing to create it from
        ["privacy", "2", "--effective", "2027-01-01", "--template", "privacy/missing.html"],
        ["privacy", "1", "--material", "--changes", "Rewriting history."],  # already published
    ],
)
def test_the_command_refuses_bad_input_and_leaves_nothing_behind(args):
    with pytest.raises(CommandError):
        call_command("publish_policy", *args, stdout=open("/dev/null", "w"))
    assert list(PolicyDocument.objects.values_list("kind", "version", "material")) == [
        ("privacy", 1, False),
        ("terms", 1, False),
    ]


# --- the notice and the acknowledgement -------------------------------------------------------------------------------


@pytest.fixture
def published(tenant_a):
    document = _draft()
    policy.policy_publish(document=document)
    return document


def _client(user, **extra):
    client = Client(**extra)
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["dashboard:overview", "dashboard:subscribers", "dashboard:settings"])
def test_every_dashboard_page_shows_the_notice_until_acknowledged(tenant_a, published, path):
    html = _client(tenant_a.member.user).get(reverse(path)).content.decode()
    notice = PolicyNotice.objects.get(user=tenant_a.member.user)
    assert "We've updated our privacy policy" in html
    assert f'href="/policy-updates/{notice.pk}/?next=' in html and "Review and accept" in html


@pytest.mark.django_db
def test_review_and_acknowledge_records_it_and_the_notice_goes(tenant_a, published):
    user = tenant_a.admin.user
    client = _client(user, REMOTE_ADDR="203.0.113.40")
    notice = PolicyNotice.objects.get(user=user)
    url = reverse("policy-review", args=[notice.pk])

    page = client.get(url, {"next": "/app/subscribers/"}).content.decode()
    assert CHANGES in page and "I acknowledge" in page and 'href="/privacy/v2/"' in page

    response = client.post(url, {"next": "/app/subscribers/"})
    assert response.status_code == 302 and response["Location"] == "/app/subscribers/"
    notice.refresh_from_db()
    assert notice.acknowledged_at is not None
    (event,) = AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_ACKNOWLEDGED)
    assert (event.actor, event.business, event.ip) == (user, tenant_a.business, "203.0.113.40")
    assert event.details == {"kind": "privacy", "version": 2}
    assert "Review and accept" not in client.get(reverse("dashboard:overview")).content.decode()
    # Others still see theirs.
    assert "Review and accept" in _client(tenant_a.owner.user).get(reverse("dashboard:overview")).content.decode()

    client.post(url)  # a second acknowledgement changes nothing
    assert AuditEvent.objects.filter(action=AuditEvent.Action.POLICY_ACKNOWLEDGED).count() == 1


@pytest.mark.django_db
def test_someone_elses_notice_is_not_found_and_anonymous_visitors_log_in(tenant_a, tenant_b, published):
    notice = PolicyNotice.objects.get(user=tenant_a.owner.user)
    url = reverse("policy-review", args=[notice.pk])
    intruder = _client(tenant_a.member.user)
    assert intruder.get(url).status_code == 404
    assert intruder.post(url).status_code == 404
    assert _client(tenant_b.owner.user).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    notice.refresh_from_db()
    assert notice.acknowledged_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "x" * 5000])
def test_acknowledging_never_redirects_off_the_site(tenant_a, published, target):
    client = _client(tenant_a.owner.user)
    notice = PolicyNotice.objects.get(user=tenant_a.owner.user)
    response = client.post(reverse("policy-review", args=[notice.pk]), {"next": target})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:overview")


@pytest.mark.django_db
def test_the_notice_query_does_not_grow_with_pending_notices(tenant_a, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(tenant_a.owner.user)
    policy.policy_publish(document=_draft(version=2))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("dashboard:overview"))
    policy.policy_publish(document=_draft(version=3))
    policy.policy_publish(document=_draft(kind="terms", version=2))
    with CaptureQueriesContext(connection) as three:
        html = client.get(reverse("dashboard:overview")).content.decode()
    assert html.count("Review and accept") == 3
    assert len(three) == len(one)
