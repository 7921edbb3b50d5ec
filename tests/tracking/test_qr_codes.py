"""QR codes: made and changed through the services and /api/v1/qr-codes/, one business's codes invisible to another,
their counts in bulk, and their images read back to exactly the code's URL."""

import io
import re

import PIL.Image
import pytest
import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from consent.keywords import Classification, Intent, classify
from tests.factories import KeywordFactory, SenderNumberFactory
from tests.helpers import api_client
from tracking import selectors, services
from tracking.models import REF_ALPHABET, QRCode

from . import decode_modules, decode_png, svg_modules, svg_root

MISSING_ID = 987_654_321
REF = re.compile(rf"^Q[{REF_ALPHABET}]{{3}}$")
ITEM_FIELDS = {
    "id", "label", "number", "keyword", "keyword_text", "ref", "prefilled_body", "url", "is_active", "scans",
    "opt_ins", "conversion_rate", "created_at", "image_svg_url", "image_png_url",
}  # fmt: skip


def make_code(tenant, label="Front door", **kwargs):
    return services.qr_code_create(
        business=tenant.business, number=tenant.number, keyword=tenant.keyword, label=label, **kwargs
    )


@pytest.fixture
def code(tenant_a):
    return make_code(tenant_a)


def scan_url(code):
    return f"{settings.PUBLIC_BASE_URL}/q/{code.slug}"


# --- services ------------------------------------------------------------------------------------------------------


def test_a_code_texts_its_keyword_and_a_reference_that_the_keyword_grammar_credits_to_it(tenant_a):
    code = make_code(tenant_a)

    assert REF.match(code.ref)
    assert code.prefilled_body == f"JOIN {code.ref}"
    assert classify(code.prefilled_body, ["JOIN"]) == Classification(Intent.KEYWORD, "JOIN", code.ref)


@pytest.mark.parametrize("character", list(REF_ALPHABET))
def test_every_reference_character_is_understood_by_the_keyword_grammar(character):
    ref = f"Q{character * 3}"
    assert classify(f"JOIN {ref}", ["JOIN"]).qr_ref == ref


def test_a_reference_taken_on_the_number_is_drawn_again(tenant_a, monkeypatch):
    drawn = iter(["Q222", "Q222", "Q222", "Q333"])
    monkeypatch.setattr(services, "new_ref", lambda: next(drawn))

    first, second = make_code(tenant_a, "flyer A"), make_code(tenant_a, "flyer B")

    assert (first.ref, second.ref) == ("Q222", "Q333")


def test_the_same_reference_may_be_used_on_another_number(tenant_a, tenant_b, monkeypatch):
    monkeypatch.setattr(services, "new_ref", lambda: "Q222")

    assert make_code(tenant_a).ref == make_code(tenant_b).ref == "Q222"


def test_a_reference_taken_between_the_check_and_the_write_is_drawn_again(tenant_a, monkeypatch):
    make_code(tenant_a, "already there")  # holds whatever ref it drew
    taken = QRCode.objects.get().ref
    picks = iter([taken, "Q999" if taken != "Q999" else "Q998"])
    # The check said the first pick was free (a concurrent request then took it): the unique constraint catches it.
    monkeypatch.setattr(services, "_free_ref", lambda number, exclude_pk=None: next(picks))

    code = make_code(tenant_a, "second")

    assert code.ref != taken and QRCode.objects.count() == 2


def test_a_number_with_no_free_reference_left_is_refused_readably(tenant_a, monkeypatch):
    make_code(tenant_a)
    monkeypatch.setattr(services, "new_ref", lambda: QRCode.objects.get().ref)

    with pytest.raises(ValidationError) as caught:
        make_code(tenant_a, "one too many")
    assert "number" in caught.value.message_dict


@pytest.mark.parametrize(
    "target",
    ["foreign_number", "foreign_keyword", "keyword_of_other_number", "inactive_keyword"],
)
def test_a_code_for_a_number_or_keyword_it_cannot_use_is_refused(tenant_a, tenant_b, target):
    other_number = SenderNumberFactory(business=tenant_a.business)
    number, keyword = tenant_a.number, tenant_a.keyword
    field = "keyword"
    if target == "foreign_number":
        number, field = tenant_b.number, "number"
    elif target == "foreign_keyword":
        keyword = tenant_b.keyword
    elif target == "keyword_of_other_number":
        keyword = KeywordFactory(number=other_number, keyword="PIZZA")
    else:
        keyword.is_active = False
        keyword.save()

    with pytest.raises(ValidationError) as caught:
        services.qr_code_create(business=tenant_a.business, number=number, keyword=keyword, label="door")

    assert list(caught.value.message_dict) == [field]
    assert not QRCode.objects.exists()


def test_a_blank_label_is_refused(tenant_a):
    with pytest.raises(ValidationError) as caught:
        make_code(tenant_a, label="   ")
    assert "label" in caught.value.message_dict


def test_moving_a_code_keeps_its_reference_unless_the_new_number_has_it(tenant_a, monkeypatch):
    second_number = SenderNumberFactory(business=tenant_a.business)
    second_keyword = KeywordFactory(number=second_number, keyword="PIZZA")
    monkeypatch.setattr(services, "new_ref", lambda: "Q222")
    code = make_code(tenant_a)

    services.qr_code_update(instance=code, number=second_number, keyword=second_keyword)
    assert (code.number, code.keyword, code.ref) == (second_number, second_keyword, "Q222")

    newcomer = make_code(tenant_a, "newcomer")  # Q222 is free again on the first number
    drawn = iter(["Q222", "Q444"])
    monkeypatch.setattr(services, "new_ref", lambda: next(drawn))
    services.qr_code_update(instance=newcomer, number=second_number, keyword=second_keyword)
    assert newcomer.ref == "Q444"
    assert newcomer.prefilled_body == "PIZZA Q444"


def test_only_label_state_number_and_keyword_can_be_changed(code):
    with pytest.raises(ValidationError) as caught:
        services.qr_code_update(instance=code, ref="QAAA", slug="guess")
    assert set(caught.value.message_dict) == {"ref", "slug"}


# --- the API: create, read, change, delete ------------------------------------------------------------------------


def test_an_admin_creates_a_code_and_gets_every_field(tenant_a):
    response = api_client(tenant_a.admin).post(
        "/api/v1/qr-codes/",
        {"number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk, "label": "  Front door "},
        format="json",
    )

    assert response.status_code == 201, response.content
    item = response.json()
    code = QRCode.objects.get()
    assert set(item) == ITEM_FIELDS
    assert code.business == tenant_a.business
    assert item["id"] == code.pk
    assert item["label"] == "Front door"
    assert (item["number"], item["keyword"], item["keyword_text"]) == (tenant_a.number.pk, tenant_a.keyword.pk, "JOIN")
    assert REF.match(item["ref"]) and item["ref"] == code.ref
    assert item["prefilled_body"] == f"JOIN {code.ref}"
    assert item["url"] == scan_url(code)
    assert item["is_active"] is True
    assert (item["scans"], item["opt_ins"], item["conversion_rate"]) == (0, 0, None)
    assert item["created_at"]
    assert item["image_svg_url"] == f"http://testserver/api/v1/qr-codes/{code.pk}/image.svg"
    assert item["image_png_url"] == f"http://testserver/api/v1/qr-codes/{code.pk}/image.png"


def test_a_code_can_be_created_switched_off(tenant_a):
    response = api_client(tenant_a.admin).post(
        "/api/v1/qr-codes/",
        {"number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk, "label": "later", "is_active": False},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["is_active"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({"keyword": None}, "keyword"),
        ({"number": "one"}, "number"),
        ({"label": ""}, "label"),
        ({"label": "x" * 101}, "label"),
    ],
)
def test_create_says_what_to_fix(tenant_a, body, field):
    full = {"number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk, "label": "door"} | body
    response = api_client(tenant_a.admin).post("/api/v1/qr-codes/", full, format="json")

    assert response.status_code == 400
    assert field in response.json()["details"]
    assert response.json()["error"]


def test_a_keyword_of_another_number_is_refused_saying_which_number_it_is_on(tenant_a):
    other_number = SenderNumberFactory(business=tenant_a.business)
    pizza = KeywordFactory(number=other_number, keyword="PIZZA")

    response = api_client(tenant_a.admin).post(
        "/api/v1/qr-codes/", {"number": tenant_a.number.pk, "keyword": pizza.pk, "label": "door"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["keyword"]
    assert f"PIZZA is a keyword on {other_number.phone_number}" in response.json()["error"]
    assert not QRCode.objects.exists()


@pytest.mark.parametrize("field", ["number", "keyword"])
def test_another_business_number_or_keyword_is_refused_like_a_missing_one(tenant_a, tenant_b, field):
    """A QR code for a number or keyword of another business is refused, without telling that it exists."""
    client = api_client(tenant_b.admin)
    foreign = getattr(tenant_a, field).pk
    base = {"number": tenant_b.number.pk, "keyword": tenant_b.keyword.pk, "label": "door"}

    on_foreign = client.post("/api/v1/qr-codes/", base | {field: foreign}, format="json")
    on_missing = client.post("/api/v1/qr-codes/", base | {field: MISSING_ID}, format="json")

    assert on_foreign.status_code == on_missing.status_code == 400
    assert list(on_foreign.json()["details"]) == [field]
    assert on_foreign.json()["error"].replace(f"id {foreign} ", "id <id> ") == on_missing.json()["error"].replace(
        f"id {MISSING_ID} ", "id <id> "
    )
    assert tenant_a.number.phone_number not in on_foreign.content.decode()
    assert not QRCode.objects.exists()


def test_members_read_codes_and_images_but_only_admins_and_owners_change_them(tenant_a, code):
    member = api_client(tenant_a.member)
    body = {"number": tenant_a.number.pk, "keyword": tenant_a.keyword.pk, "label": "x"}

    assert member.get("/api/v1/qr-codes/").status_code == 200
    assert member.get(f"/api/v1/qr-codes/{code.pk}/").status_code == 200
    assert member.get(f"/api/v1/qr-codes/{code.pk}/image.svg/").status_code == 200
    assert member.get(f"/api/v1/qr-codes/{code.pk}/image.png/").status_code == 200
    # the address the API hands out, without the router's slash
    assert member.get(f"/api/v1/qr-codes/{code.pk}/image.svg").status_code == 200
    assert member.get(f"/api/v1/qr-codes/{code.pk}/image.png").status_code == 200
    for response in (
        member.post("/api/v1/qr-codes/", body, format="json"),
        member.patch(f"/api/v1/qr-codes/{code.pk}/", {"label": "x"}, format="json"),
        member.put(f"/api/v1/qr-codes/{code.pk}/", body, format="json"),
        member.delete(f"/api/v1/qr-codes/{code.pk}/"),
    ):
        assert response.status_code == 403
        assert "admin" in response.json()["error"]
    assert QRCode.objects.get() == code and code.label == "Front door"

    for role in ("admin", "owner"):
        response = api_client(getattr(tenant_a, role)).patch(
            f"/api/v1/qr-codes/{code.pk}/", {"label": f"by {role}"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["label"] == f"by {role}"


def test_update_changes_label_and_state_and_ignores_read_only_fields(tenant_a, code):
    response = api_client(tenant_a.admin).patch(
        f"/api/v1/qr-codes/{code.pk}/",
        {"label": "Back door", "is_active": False, "ref": "QAAA", "url": "https://evil.example/"},
        format="json",
    )

    assert response.status_code == 200, response.content
    code.refresh_from_db()
    assert (code.label, code.is_active) == ("Back door", False)
    assert response.json()["ref"] == code.ref != "QAAA"
    assert response.json()["url"] == scan_url(code)


def test_put_moves_a_code_to_another_number_and_keyword_of_the_business(tenant_a, code):
    number = SenderNumberFactory(business=tenant_a.business)
    pizza = KeywordFactory(number=number, keyword="PIZZA")

    response = api_client(tenant_a.admin).put(
        f"/api/v1/qr-codes/{code.pk}/", {"number": number.pk, "keyword": pizza.pk, "label": "menu"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["number"], response.json()["keyword_text"]) == (number.pk, "PIZZA")
    assert response.json()["prefilled_body"] == f"PIZZA {code.ref}"


@pytest.mark.parametrize("change", ["number", "keyword"])
def test_changing_only_the_number_or_only_the_keyword_is_checked_again(tenant_a, code, change):
    number = SenderNumberFactory(business=tenant_a.business)
    pizza = KeywordFactory(number=number, keyword="PIZZA")
    body = {"number": number.pk} if change == "number" else {"keyword": pizza.pk}

    response = api_client(tenant_a.admin).patch(f"/api/v1/qr-codes/{code.pk}/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["details"]) == ["keyword"]
    code.refresh_from_db()
    assert (code.number, code.keyword) == (tenant_a.number, tenant_a.keyword)


def test_delete_removes_the_code(tenant_a, code):
    response = api_client(tenant_a.admin).delete(f"/api/v1/qr-codes/{code.pk}/")

    assert response.status_code == 204
    assert not QRCode.objects.exists()


def test_the_list_counts_every_code_in_the_same_number_of_queries(tenant_a):
    make_code(tenant_a, "one")
    client = api_client(tenant_a.member)
    client.get("/api/v1/qr-codes/")  # warm up: token lookups and the like are cached after the first request

    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/qr-codes/").json()["results"]) == 1
    for n in range(5):
        make_code(tenant_a, f"more {n}")
    with CaptureQueriesContext(connection) as six:
        assert len(client.get("/api/v1/qr-codes/").json()["results"]) == 6

    assert len(six.captured_queries) == len(one.captured_queries)


def test_stats_in_bulk_match_stats_one_by_one(tenant_a):
    codes = [make_code(tenant_a, f"code {n}") for n in range(3)]
    services.scan_record(qr_code=codes[0], user_agent="", ip="203.0.113.1", referrer="")

    with CaptureQueriesContext(connection) as queries:
        bulk = selectors.qr_code_stats(qr_codes=codes)
    assert len(queries.captured_queries) == 2
    assert bulk == {code.pk: selectors.qr_code_stats(qr_codes=[code])[code.pk] for code in codes}
    assert bulk[codes[0].pk].scans == 1 and bulk[codes[1].pk].scans == 0
    assert selectors.qr_code_stats(qr_codes=[]) == {}


def test_the_openapi_schema_documents_the_codes_and_their_images(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/qr-codes/"])
    assert "image/png" in paths["/api/v1/qr-codes/{id}/image.png"]["get"]["responses"]["200"]["content"]
    assert "image/svg+xml" in paths["/api/v1/qr-codes/{id}/image.svg"]["get"]["responses"]["200"]["content"]


# --- tenancy -------------------------------------------------------------------------------------------------------

# (method, path after /api/v1/qr-codes/<id>/, body): every object-level action.
OBJECT_ACTIONS = [
    ("get", "", None),
    ("patch", "", {"label": "seen by B", "is_active": False}),
    ("put", "", {"label": "seen by B", "number": "B", "keyword": "B"}),
    ("delete", "", None),
    ("get", "image.svg/", None),
    ("get", "image.png/", None),
    ("get", "image.png/?size=300", None),
    ("get", "image.svg/?size=not-a-size", None),
]


def _body(body, tenant_b):
    if body is None:
        return None
    return {**body, **{field: getattr(tenant_b, field).pk for field in ("number", "keyword") if field in body}}


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.parametrize(("method", "suffix", "body"), OBJECT_ACTIONS)
def test_another_business_code_is_not_found_on_every_endpoint(tenant_a, tenant_b, code, role, method, suffix, body):
    """Exactly the answer for an id that does not exist, and A's code is left as it was."""
    make_code(tenant_b)  # B has codes of its own
    client = api_client(getattr(tenant_b, role))
    before = QRCode.objects.filter(pk=code.pk).values().get()
    body = _body(body, tenant_b)

    for_a = getattr(client, method)(f"/api/v1/qr-codes/{code.pk}/{suffix}", body, format="json")
    for_missing = getattr(client, method)(f"/api/v1/qr-codes/{MISSING_ID}/{suffix}", body, format="json")

    expected = 404 if method == "get" or role != "member" else 403
    assert for_a.status_code == expected, for_a.content
    assert (for_a.status_code, for_a.json()) == (for_missing.status_code, for_missing.json())
    assert QRCode.objects.filter(pk=code.pk).values().get() == before


def test_another_business_codes_never_appear_in_the_list(tenant_a, tenant_b, code):
    own = make_code(tenant_b)

    listed = api_client(tenant_b.owner).get("/api/v1/qr-codes/").json()["results"]

    assert [item["id"] for item in listed] == [own.pk]


def test_without_a_token_every_endpoint_answers_401(code):
    client = APIClient()
    for path in ("", f"{code.pk}/", f"{code.pk}/image.svg/", f"{code.pk}/image.png/"):
        response = client.get(f"/api/v1/qr-codes/{path}")
        assert response.status_code == 401
        assert response.json()["error"]


# --- images --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [120, 600, 4000], ids=["small", "default", "print"])
def test_the_png_reads_back_as_exactly_the_code_url(tenant_a, code, size):
    client = api_client(tenant_a.member)
    query = {} if size == 600 else {"size": size}

    response = client.get(f"/api/v1/qr-codes/{code.pk}/image.png/", query)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert decode_png(response.content) == [scan_url(code)]
    width, height = PIL.Image.open(io.BytesIO(response.content)).size
    assert width == height
    assert size * 0.9 <= width <= size


def test_the_png_is_served_whatever_image_type_the_client_accepts(tenant_a, code):
    response = api_client(tenant_a.member).get(
        f"/api/v1/qr-codes/{code.pk}/image.png/", HTTP_ACCEPT="image/avif,image/webp,image/png,*/*;q=0.8"
    )
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("size", [120, 600, 4000], ids=["small", "default", "print"])
def test_the_svg_is_an_svg_of_the_size_asked_that_draws_the_code_url(tenant_a, code, size):
    """Read back twice: the drawn modules equal the matrix segno makes for the URL, and the modules, redrawn as a
    bitmap, decode with zxing-cpp to exactly the URL."""
    response = api_client(tenant_a.member).get(
        f"/api/v1/qr-codes/{code.pk}/image.svg/", {"size": size}, HTTP_ACCEPT="image/svg+xml"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = svg_root(response.content)
    assert float(root.get("width")) == float(root.get("height")) == size
    modules = svg_modules(response.content)
    expected = segno.make_qr(scan_url(code), error="q")
    border = (len(modules) - expected.symbol_size(border=0)[0]) // 2
    assert border == 4
    assert modules == [list(row) for row in expected.matrix_iter(border=4)]
    assert decode_modules(modules) == [scan_url(code)]


@pytest.mark.parametrize("size", ["abc", "0", "99", "4001", "-5", "1.5", "", "600px", "６００"])
@pytest.mark.parametrize("image", ["image.svg", "image.png"])
def test_an_invalid_size_is_a_400_saying_what_to_send(tenant_a, code, image, size):
    response = api_client(tenant_a.member).get(f"/api/v1/qr-codes/{code.pk}/{image}/", {"size": size})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "size" in response.json()["details"]
    assert "100 to 4000" in response.json()["error"]


def test_an_image_is_served_at_its_file_address_for_its_own_business_only(tenant_a, tenant_b, code):
    response = api_client(tenant_a.member).get(f"/api/v1/qr-codes/{code.pk}/image.svg")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert api_client(tenant_b.owner).get(f"/api/v1/qr-codes/{code.pk}/image.png").status_code == 404
