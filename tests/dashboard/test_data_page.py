"""Settings → Your data: owner-only export and business deletion, and cancelling a deletion before the purge."""

import io
import zipfile

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Business
from privacy import services
from privacy.models import DataRequest

DATA = reverse("dashboard:data")
EXPORT = reverse("dashboard:data-export")
DELETE = reverse("dashboard:data-delete")
PENDING = reverse("dashboard:data-deletion-pending")


def _cancel_url(business):
    return reverse("dashboard:data-deletion-cancel", args=[business.pk])


def test_owner_sees_the_page_and_what_deletion_does(client, tenant_a, settings):
    settings.RETENTION_DELETED_BUSINESS_DAYS = 30
    client.force_login(tenant_a.owner.user)
    response = client.get(DATA)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<h1") == 1
    assert "Download your data" in page and "After 30 days" in page
    assert '<label for="id_confirm_name">' in page
    assert f'href="{DATA}" aria-current="page"' in page


@pytest.mark.parametrize("role", ["admin", "member"])
def test_admins_and_members_are_refused_everything(client, tenant_a, role):
    client.force_login(getattr(tenant_a, role).user)
    assert client.get(DATA).status_code == 403
    assert client.post(EXPORT).status_code == 403
    assert client.post(DELETE, {"confirm_name": tenant_a.business.name}).status_code == 403
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.status == Business.Status.ACTIVE
    assert not DataRequest.objects.exists()
    settings_page = client.get(reverse("dashboard:settings")).content.decode()
    assert DATA not in settings_page  # the tab is for owners only


def test_export_downloads_a_zip_of_this_business_only(client, tenant_a, tenant_b):
    client.force_login(tenant_a.owner.user)
    response = client.post(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    zipped = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    text = zipped.read("data.json").decode()
    assert tenant_a.business.name in text and tenant_b.business.name not in text
    assert AuditEvent.objects.filter(action="data_exported", business=tenant_a.business).exists()
    assert client.get(EXPORT).status_code == 405


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Type the business's name to confirm."),
        ("Bella Realty", "That isn't the business's name"),
        ("x" * 5000, ""),
    ],
)
def test_deletion_needs_the_business_name_shown_next_to_the_field(client, tenant_a, typed, message):
    client.force_login(tenant_a.owner.user)
    response = client.post(DELETE, {"confirm_name": typed})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_confirm_name_error"' in page
    assert message.replace("'", "&#x27;") in page
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.status == Business.Status.ACTIVE


def test_owner_deletes_then_cancels(client, tenant_a):
    client.force_login(tenant_a.owner.user)
    response = client.post(DELETE, {"confirm_name": "  tony's pizza "})
    assert response.status_code == 302 and response["Location"] == PENDING
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.status == Business.Status.DELETED

    assert client.get(DATA)["Location"].endswith("/no-business/")  # logins to it stop at once
    page = client.get(PENDING).content.decode()
    assert tenant_a.business.name.replace("'", "&#x27;") in page
    assert _cancel_url(tenant_a.business) in page

    response = client.post(_cancel_url(tenant_a.business))
    assert response.status_code == 302 and response["Location"] == DATA
    tenant_a.business.refresh_from_db()
    assert tenant_a.business.status == Business.Status.ACTIVE
    assert client.get(DATA).status_code == 200


def test_only_an_owner_of_the_deleted_business_can_cancel(client, tenant_a, tenant_b):
    services.business_deletion_request(business=tenant_b.business, actor=tenant_b.owner.user)
    client.force_login(tenant_a.owner.user)
    assert client.post(_cancel_url(tenant_b.business)).status_code == 404
    assert tenant_b.business.name not in client.get(PENDING).content.decode()
    client.force_login(tenant_b.member.user)
    assert client.post(_cancel_url(tenant_b.business)).status_code == 404
    assert "No business of yours is waiting to be deleted" in client.get(PENDING).content.decode()
    tenant_b.business.refresh_from_db()
    assert tenant_b.business.status == Business.Status.DELETED
    # An active business has no deletion to cancel.
    client.force_login(tenant_a.owner.user)
    assert client.post(_cancel_url(tenant_a.business)).status_code == 404
    assert client.get(PENDING.rstrip("/") + "/abc/cancel/").status_code == 404


def test_pages_need_a_login(client, tenant_a):
    for url in (DATA, PENDING):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    assert client.post(_cancel_url(tenant_a.business)).status_code == 302
