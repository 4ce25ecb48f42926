"""Where a request comes from: X-Forwarded-For is believed only as far as our own proxies
wrote it."""

import ipaddress

import pytest
from django.test import RequestFactory

from opsdesk.accounts.addresses import client_address


@pytest.fixture
def proxies(settings):
    settings.OPSDESK_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24"),
                                        ipaddress.ip_network("fd00::/8")]


def _address(peer: str, forwarded: str | None = None) -> str | None:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=peer, **extra))


def test_without_trusted_proxies_the_peer_is_the_client(settings):
    settings.OPSDESK_TRUSTED_PROXIES = []
    assert _address("10.0.0.2", "198.51.100.7") == "10.0.0.2"


def test_an_untrusted_peer_cannot_name_another_client(proxies):
    assert _address("203.0.113.66", "10.0.0.9, 198.51.100.7") == "203.0.113.66"


def test_the_right_most_address_past_our_proxies_is_the_client(proxies):
    # client → proxy 10.0.0.7 → proxy 10.0.0.2 → opsdesk; the first entry is the client's own.
    assert _address("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.7") == "198.51.100.7"
    assert _address("fd00::2", "2001:db8::5") == "2001:db8::5"


def test_an_entry_no_proxy_of_ours_wrote_ends_the_walk(proxies):
    assert _address("10.0.0.2", "198.51.100.7, not-an-address") == "10.0.0.2"
    assert _address("10.0.0.2", "") == "10.0.0.2"
    assert _address("10.0.0.2", "10.0.0.7") == "10.0.0.7"  # only proxies: the farthest


def test_ipv4_seen_through_ipv6_is_the_same_client(settings):
    settings.OPSDESK_TRUSTED_PROXIES = []
    assert _address("::ffff:198.51.100.7") == "198.51.100.7"
    assert _address("") is None
