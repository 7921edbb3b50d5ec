"""`make run`'s links follow HOST and PORT (nextalerts/localrun.py), unless PUBLIC_BASE_URL is set."""

import ipaddress
from urllib.parse import urlsplit

import pytest

from nextalerts import localrun


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("127.0.0.1", 8100, "http://127.0.0.1:8100"),
        ("localhost", 9000, "http://localhost:9000"),
        ("::1", 8000, "http://[::1]:8000"),
        ("192.168.1.20", 8000, "http://192.168.1.20:8000"),
    ],
)
def test_the_public_address_is_where_the_server_listens(host, port, expected):
    assert localrun.public_base_url(host, port) == expected


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_everywhere_links_to_this_machines_own_address(host):
    url = localrun.public_base_url(host, 8100)
    parts = urlsplit(url)
    assert parts.port == 8100
    assert not ipaddress.ip_address(parts.hostname).is_unspecified


def test_the_web_server_listens_where_asked_and_the_worker_and_beat_run_beside_it():
    commands = localrun.commands(host="0.0.0.0", port=8100, reload=False)
    assert commands["web"][-2:] == ["0.0.0.0:8100", "--noreload"]
    assert commands["worker"][3:6] == ["-A", "nextalerts", "worker"]
    assert commands["beat"][3:6] == ["-A", "nextalerts", "beat"]
