"""Client IP from REMOTE_ADDR unless the peer is a trusted proxy; then
X-Forwarded-For read from the right, skipping our own proxies."""

from __future__ import annotations

import ipaddress

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from marquee.lib.clientip import client_ip_from_scope, resolve_client_ip
from marquee.lib.middleware import ClientIPMiddleware
from tests.factories import JurisdictionFactory

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"), ipaddress.ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # No proxy configured in front: the header is the client's own words.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # Through our proxy: the right-most untrusted hop.
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        # A client that prepends a fake address is still seen as itself.
        ("10.0.0.2", "1.1.1.1, 198.51.100.1", "198.51.100.1"),
        # Two of our proxies in a row are skipped.
        ("10.0.0.2", "198.51.100.1, 10.0.0.7", "198.51.100.1"),
        # IPv6 through an IPv6 proxy.
        ("fd00::1", "2001:db8::5", "2001:db8::5"),
        # Garbage in the chain stops trust at that point.
        ("10.0.0.2", "198.51.100.1, not-an-ip", "10.0.0.2"),
        # Every hop is ours: the left-most proxy is the best we know.
        ("10.0.0.2", "10.0.0.3, 10.0.0.4", "10.0.0.3"),
        # Empty header / spaces only.
        ("10.0.0.2", " , ", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_resolve_client_ip(remote, forwarded, expected):
    assert resolve_client_ip(remote, forwarded, PROXIES) == expected


def test_untrusted_peer_spoofing_a_trusted_proxy_in_the_header_is_ignored():
    # The attacker claims to have come through our proxy; its peer address wins.
    assert resolve_client_ip("198.51.100.66", "203.0.113.1, 10.0.0.2", PROXIES) == "198.51.100.66"


def test_no_trusted_proxies_by_default(settings):
    settings.TRUSTED_PROXIES = []
    assert resolve_client_ip("127.0.0.1", "203.0.113.1") == "127.0.0.1"


def test_middleware_sets_client_ip_from_settings(settings):
    settings.TRUSTED_PROXIES = PROXIES
    seen = {}

    def view(request):
        seen["ip"] = request.client_ip
        return HttpResponse()

    middleware = ClientIPMiddleware(view)
    middleware(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.1"))
    assert seen["ip"] == "198.51.100.1"
    middleware(RequestFactory().get("/", REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR="1.1.1.1"))
    assert seen["ip"] == "198.51.100.66"


def test_asgi_scope_uses_the_same_rule(settings):
    settings.TRUSTED_PROXIES = PROXIES
    scope = {"client": ("10.0.0.2", 5000), "headers": [(b"x-forwarded-for", b"9.9.9.9, 198.51.100.1")]}
    assert client_ip_from_scope(scope) == "198.51.100.1"
    spoofed = {"client": ("198.51.100.66", 5000), "headers": [(b"x-forwarded-for", b"9.9.9.9")]}
    assert client_ip_from_scope(spoofed) == "198.51.100.66"


def test_spoofed_header_does_not_change_the_geo_decision(client, db, geoip_db, settings):
    """A visitor from a blocked region cannot escape by sending X-Forwarded-For."""

    settings.TRUSTED_PROXIES = []
    JurisdictionFactory(country="DE", rule="blocked", reason="Blocked for the test.")
    response = client.get("/api/v1/performers/", REMOTE_ADDR="100.64.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert response.status_code == 451
    # Through a trusted proxy the forwarded address is the one located.
    settings.TRUSTED_PROXIES = PROXIES
    response = client.get("/api/v1/performers/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="100.64.0.1")
    assert response.status_code == 451
    response = client.get("/api/v1/performers/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert response.status_code == 200
