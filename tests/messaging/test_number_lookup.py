"""Which numbers the platform's provider account owns, as each SMS backend answers it: Telnyx through the real SDK
(GET /v2/phone_numbers?filter[phone_number]=...) against the fake Telnyx server, which answers the same look-up;
the console and in-memory backends, which have no account, own every number unless a test says otherwise."""

import io
import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings as django_settings

from devtools.fakes.telnyx_server import FakeTelnyxServer
from messaging import get_backend
from messaging.backends import console, locmem
from messaging.messages import NumberCheckUnavailable

OWNED = "+12025550188"
OTHER = "+12025550177"


def test_telnyx_owns_a_number_the_account_has_and_not_one_it_lacks(fake_telnyx):
    fake_telnyx.own(OWNED)
    backend = get_backend()
    assert backend.number_owned(OWNED) is True
    assert backend.number_owned(OTHER) is False

    [first, second] = fake_telnyx.lookups()
    assert first["filter[phone_number]"] == "12025550188"  # digits only: Telnyx matches nothing else
    assert second["filter[phone_number]"] == "12025550177"


def test_a_partial_match_on_the_account_is_not_ownership(fake_telnyx):
    """Telnyx's filter matches numbers that contain the digits; only the exact number counts."""
    fake_telnyx.own("+12025550188")
    assert get_backend().number_owned("+1202555018") is False
    assert get_backend().number_owned("+12025550188") is True


def test_a_number_leaving_the_account_is_not_owned(fake_telnyx):
    fake_telnyx.own(OWNED, status="ported-out")
    assert get_backend().number_owned(OWNED) is False


def test_by_default_the_fake_owns_every_number(fake_telnyx):
    assert get_backend().number_owned(OTHER) is True


def test_the_look_up_is_authenticated_with_the_platform_key(fake_telnyx, settings):
    settings.TELNYX_API_KEY = "KEY_WRONG"
    with pytest.raises(NumberCheckUnavailable, match="refused"):
        get_backend().number_owned(OWNED)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_telnyx_failing_the_look_up_is_unavailable_not_an_answer(fake_telnyx, status):
    fake_telnyx.fail(status=status, code="10007", title="Unexpected error", path="/v2/phone_numbers")
    with pytest.raises(NumberCheckUnavailable) as caught:
        get_backend().number_owned(OWNED)
    assert "Telnyx" in str(caught.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_telnyx_unreachable_is_unavailable(fake_telnyx, settings):
    settings.TELNYX_BASE_URL = f"http://127.0.0.1:{_closed_port()}/v2"
    with pytest.raises(NumberCheckUnavailable, match="could not reach Telnyx"):
        get_backend().number_owned(OWNED)


def test_telnyx_too_slow_is_unavailable(fake_telnyx, settings):
    settings.TELNYX_TIMEOUT_SECONDS = 0.3
    fake_telnyx.state.latency = 2.0
    with pytest.raises(NumberCheckUnavailable, match="did not answer"):
        get_backend().number_owned(OWNED)


def test_the_backends_without_an_account_own_every_number(monkeypatch):
    assert console.SmsBackend(stream=io.StringIO()).number_owned(OTHER) is True
    assert locmem.SmsBackend().number_owned(OTHER) is True
    monkeypatch.setattr(locmem, "owned_numbers", {OWNED})
    assert locmem.SmsBackend().number_owned(OWNED) is True
    assert locmem.SmsBackend().number_owned(OTHER) is False


def test_the_fake_is_told_its_numbers_over_http_too():
    with FakeTelnyxServer() as server:
        request = urllib.request.Request(
            f"{server.base_url.removesuffix('/v2')}/_fake/numbers",
            data=json.dumps({"numbers": [OWNED]}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).read()
        assert server.state.owned_numbers == {OWNED: "active"}


def test_run_fake_telnyx_serves_only_the_numbers_it_is_given():
    port = _closed_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_fake_telnyx",
            "--port",
            str(port),
            "--numbers",
            f"{OWNED},+1 (202) 555-0166",
        ],
        cwd=django_settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Fake Telnyx on" in process.stdout.readline()
        url = f"http://127.0.0.1:{port}/v2/phone_numbers"

        def look_up(digits):
            request = urllib.request.Request(
                f"{url}?filter%5Bphone_number%5D={digits}", headers={"Authorization": "Bearer KEY_TEST"}
            )
            return [n["phone_number"] for n in json.load(urllib.request.urlopen(request, timeout=5))["data"]]

        deadline = time.monotonic() + 10
        while True:
            try:
                assert look_up("12025550188") == [OWNED]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert look_up("12025550166") == ["+12025550166"]
        assert look_up("12025550177") == []
    finally:
        process.terminate()
        process.wait(timeout=10)
