"""QR code pages: the list with scans and opt-ins, a code's page and print downloads, making, editing, deleting."""

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import KeywordFactory, SenderNumberFactory
from tests.helpers import text_in
from tests.tracking import decode_modules, decode_png, svg_modules
from tracking import services
from tracking.models import QRCode

LIST = reverse("dashboard:qr-codes")
CREATE = reverse("dashboard:qr-code-create")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36"
)
PAGES_WITH_ID = ["qr-code", "qr-code-edit", "qr-code-delete", "qr-code-svg", "qr-code-png"]


def make_code(tenant, label="Front door", **kwargs):
    return services.qr_code_create(
        business=tenant.business, number=tenant.number, keyword=tenant.keyword, label=label, **kwargs
    )


def url(name, code):
    return reverse(f"dashboard:{name}", args=[code.pk])


def scan(code, user_agent=IPHONE):
    return Client().get(f"/q/{code.slug}", HTTP_USER_AGENT=user_agent)


def join_through(code, phone):
    text_in(from_number=phone, to_number=code.number.phone_number, text=code.prefilled_body)


def error_of(html, field):
    match = re.search(rf'<p class="error" id="id_{field}_error">([^<]*)</p>', html)
    return match.group(1) if match else None


def cells(html, label):
    row = re.search(rf"<tr>\s*<td><a[^>]*>{label}</a>.*?</tr>", html, re.S).group(0)
    return re.findall(r'<td class="num">([^<]*?)</td>', row)


# --- The list ---------------------------------------------------------------------------------------------------------


def test_list_shows_scans_opt_ins_and_conversion_per_code_to_a_member(client, tenant_a):
    door, flyer = make_code(tenant_a, "Front door"), make_code(tenant_a, "Flyer A")
    for _ in range(4):
        scan(door)
    scan(door, user_agent="Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)")  # not a person
    join_through(door, "+12025550143")
    client.force_login(tenant_a.member.user)

    response = client.get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>QR codes</h1>" in html
    assert cells(html, "Front door") == ["4", "1", "25%"]
    assert cells(html, "Flyer A")[:2] == ["0", "0"]
    assert html.index("Flyer A") < html.index("Front door")  # newest first
    assert CREATE not in html
    assert flyer.prefilled_body in html


def test_list_offers_new_code_to_an_admin(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    assert CREATE in client.get(LIST).content.decode()


def test_list_shows_another_business_nothing(client, tenant_a, tenant_b):
    make_code(tenant_b, "Their window")
    client.force_login(tenant_a.owner.user)
    assert "Their window" not in client.get(LIST).content.decode()


def _codes(tenant, count, start):
    for index in range(start, start + count):
        scan(make_code(tenant, f"Code {index}"))


def _queries(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_codes(client, tenant_a):
    client.force_login(tenant_a.member.user)
    _codes(tenant_a, 3, 0)
    few = _queries(client, LIST)
    _codes(tenant_a, 27, 3)
    many = _queries(client, LIST)
    assert few == many


@pytest.mark.parametrize("page", ["abc", "-3", "0", "100000", "9" * 50])
def test_list_survives_any_page_number(client, tenant_a, page):
    make_code(tenant_a)
    client.force_login(tenant_a.member.user)
    assert client.get(LIST, {"page": page}).status_code == 200


# --- A code's page and its downloads ----------------------------------------------------------------------------------


def test_code_page_shows_the_code_its_address_and_scans_by_device(client, tenant_a):
    code = make_code(tenant_a)
    scan(code, IPHONE)
    scan(code, IPHONE)
    scan(code, ANDROID)
    join_through(code, "+12025550143")
    client.force_login(tenant_a.member.user)

    response = client.get(url("qr-code", code))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Front door</h1>" in html
    assert f"{settings.PUBLIC_BASE_URL}/q/{code.slug}" in html
    assert "<svg" in html and 'aria-label="QR code for Front door"' in html
    assert re.search(r"<td>Phone</td><td>iOS</td><td class=\"num\">2</td>", html)
    assert re.search(r"<td>Phone</td><td>Android</td><td class=\"num\">1</td>", html)
    assert re.search(r'Joined</span><span class="value">1<', html)
    assert re.search(r'Scans that joined</span><span class="value">33%<', html)
    assert url("qr-code-edit", code) not in html  # a member gets no edit button
    assert url("qr-code-png", code) in html and url("qr-code-svg", code) in html


def test_the_code_page_escapes_the_label(client, tenant_a):
    code = make_code(tenant_a, label="<script>alert(1)</script>")
    client.force_login(tenant_a.member.user)
    html = client.get(url("qr-code", code)).content.decode()
    assert "<script>alert(1)</script>" not in html


def test_png_download_is_an_attachment_that_reads_back_to_the_code_url(client, tenant_a):
    code = make_code(tenant_a, label="Flyer A (spring)")
    client.force_login(tenant_a.member.user)

    response = client.get(url("qr-code-png", code))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="qr-flyer-a-spring.png"'
    assert decode_png(response.content) == [f"{settings.PUBLIC_BASE_URL}/q/{code.slug}"]


def test_svg_download_is_an_attachment_that_reads_back_to_the_code_url(client, tenant_a):
    code = make_code(tenant_a, label="Café window ☕")
    client.force_login(tenant_a.member.user)

    response = client.get(url("qr-code-svg", code))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="qr-cafe-window.svg"'
    assert decode_modules(svg_modules(response.content)) == [f"{settings.PUBLIC_BASE_URL}/q/{code.slug}"]


def test_a_label_with_nothing_for_a_file_name_still_downloads(client, tenant_a):
    code = make_code(tenant_a, label="☕☕")
    client.force_login(tenant_a.member.user)
    assert client.get(url("qr-code-png", code))["Content-Disposition"] == 'attachment; filename="qr-code.png"'


# --- Roles and tenancy ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES_WITH_ID)
def test_another_business_code_is_not_found(client, tenant_a, tenant_b, name):
    theirs = make_code(tenant_b)
    client.force_login(tenant_a.owner.user)
    assert client.get(url(name, theirs)).status_code == 404


@pytest.mark.parametrize("name", ["qr-code-edit", "qr-code-delete"])
def test_another_business_code_cannot_be_changed(client, tenant_a, tenant_b, name):
    theirs = make_code(tenant_b)
    client.force_login(tenant_a.owner.user)
    assert client.post(url(name, theirs), {"label": "Mine now", "is_active": ""}).status_code == 404
    theirs.refresh_from_db()
    assert (theirs.label, theirs.is_active) == ("Front door", True)


@pytest.mark.parametrize("name", ["qr-code-edit", "qr-code-delete"])
def test_a_member_cannot_change_a_code(client, tenant_a, name):
    code = make_code(tenant_a)
    client.force_login(tenant_a.member.user)
    assert client.get(url(name, code)).status_code == 403
    assert client.post(url(name, code), {"label": "Changed"}).status_code == 403
    code.refresh_from_db()
    assert code.label == "Front door"


def test_a_member_cannot_make_a_code(client, tenant_a):
    client.force_login(tenant_a.member.user)
    assert client.get(CREATE).status_code == 403
    data = {"label": "Till", "number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk}
    assert client.post(CREATE, data).status_code == 403
    assert not QRCode.objects.exists()


@pytest.mark.parametrize("path", ["/app/qr-codes/99999999999999999999999/", "/app/qr-codes/0/download.png"])
def test_ids_that_cannot_exist_are_not_found(client, tenant_a, path):
    client.force_login(tenant_a.owner.user)
    assert client.get(path).status_code == 404


# --- Making, editing and deleting -------------------------------------------------------------------------------------


def test_an_admin_makes_a_code(client, tenant_a):
    client.force_login(tenant_a.admin.user)
    page = client.get(CREATE).content.decode()
    assert f"JOIN (on (415) 555-{tenant_a.number.phone_number[-4:]})" in page

    response = client.post(CREATE, {"label": "Till", "number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk})

    code = QRCode.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("qr-code", code)
    assert (code.label, code.business, code.keyword) == ("Till", tenant_a.business, tenant_a.keyword)


def test_without_keywords_the_page_says_to_add_one(client, tenant_a):
    tenant_a.keyword.delete()
    client.force_login(tenant_a.admin.user)
    assert "you need a keyword first" in client.get(CREATE).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"label": ""}, "label", "Say where the code is printed"),
        ({"label": "   "}, "label", "Say where the code is printed"),
        ({"label": "x" * 5000}, "label", "100 characters or fewer"),
        ({"number": "abc"}, "number", "Choose one of your own numbers."),
        ({"number": ""}, "number", "Choose one of your numbers."),
        ({"number": "99999999999999999999999"}, "number", "Choose one of your own numbers."),
        ({"keyword": "-1"}, "keyword", "Choose one of your own keywords."),
    ],
)
def test_bad_input_is_explained_next_to_its_field(client, tenant_a, overrides, field, words):
    client.force_login(tenant_a.admin.user)
    data = {"label": "Till", "number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk, **overrides}
    response = client.post(CREATE, data)
    assert response.status_code == 400
    assert words in (error_of(response.content.decode(), field) or "")
    assert not QRCode.objects.exists()


def test_another_business_number_or_keyword_is_refused_next_to_the_field(client, tenant_a, tenant_b):
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, {"label": "Till", "number": tenant_b.number.pk, "keyword": tenant_a.keyword.pk})
    assert error_of(response.content.decode(), "number") == "Choose one of your own numbers."
    response = client.post(CREATE, {"label": "Till", "number": tenant_a.number.pk, "keyword": tenant_b.keyword.pk})
    assert error_of(response.content.decode(), "keyword") == "Choose one of your own keywords."
    assert not QRCode.objects.exists()


def test_a_keyword_of_another_number_is_explained(client, tenant_a):
    other = SenderNumberFactory(business=tenant_a.business)
    elsewhere = KeywordFactory(number=other, keyword="PIZZA")
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, {"label": "Till", "number": tenant_a.number.pk, "keyword": elsewhere.pk})
    assert response.status_code == 400
    assert "is a keyword on" in error_of(response.content.decode(), "keyword")


def test_a_switched_off_keyword_is_explained(client, tenant_a):
    tenant_a.keyword.is_active = False
    tenant_a.keyword.save()
    client.force_login(tenant_a.admin.user)
    response = client.post(CREATE, {"label": "Till", "number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk})
    assert "switched off" in error_of(response.content.decode(), "keyword")


def test_an_admin_renames_and_switches_off_a_code(client, tenant_a):
    code = make_code(tenant_a)
    client.force_login(tenant_a.admin.user)
    assert 'value="Front door"' in client.get(url("qr-code-edit", code)).content.decode()

    response = client.post(url("qr-code-edit", code), {"label": "Back door"})

    assert response.status_code == 302
    code.refresh_from_db()
    assert (code.label, code.is_active) == ("Back door", False)
    assert "switched off" in client.get(url("qr-code", code)).content.decode()


def test_editing_with_an_empty_label_is_explained(client, tenant_a):
    code = make_code(tenant_a)
    client.force_login(tenant_a.admin.user)
    response = client.post(url("qr-code-edit", code), {"label": "", "is_active": "on"})
    assert response.status_code == 400
    assert "Say where the code is printed" in error_of(response.content.decode(), "label")


def test_an_admin_deletes_a_code(client, tenant_a):
    code = make_code(tenant_a)
    client.force_login(tenant_a.admin.user)
    assert "stop working" in client.get(url("qr-code-delete", code)).content.decode()
    response = client.post(url("qr-code-delete", code))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not QRCode.objects.exists()


def test_garbage_never_breaks_the_forms(client, tenant_a):
    code = make_code(tenant_a)
    client.force_login(tenant_a.admin.user)
    nasty = {"label": "\x00" * 50 + "é" * 10_000, "number": ["1", "2"], "keyword": "1e3", "is_active": "x" * 1000}
    assert client.post(CREATE, nasty).status_code == 400
    assert client.post(CREATE, {}).status_code == 400
    assert client.post(url("qr-code-edit", code), nasty).status_code == 400
    assert client.post(url("qr-code-svg", code)).status_code == 405
