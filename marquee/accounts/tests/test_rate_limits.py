"""Login and 2FA attempts are rate-limited per client IP (trusted proxies only)
and per account."""

from __future__ import annotations

import ipaddress

import pyotp
import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
PROXY = "10.0.0.2"


def bad_login(client, email, *, remote_addr=ATTACKER, forwarded_for=None):
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("account_login"), {"login": email, "password": "wrong-password-0"}, **headers)


def is_rate_limited(response) -> bool:
    return response.status_code == 429 or "Too many failed login attempts" in response.content.decode()


def test_repeated_bad_passwords_lock_the_account_from_that_address_even_for_the_right_password(client, viewer):
    for _ in range(5):
        assert not is_rate_limited(bad_login(client, "viewer@example.test"))
    assert is_rate_limited(bad_login(client, "viewer@example.test"))
    # Even the right password is refused from that address while the limit holds
    # (other addresses are not: see the lock-out test below).
    response = good_login(client, "viewer@example.test", remote_addr=ATTACKER)
    assert is_rate_limited(response)
    assert "_auth_user_id" not in client.session


def test_spoofed_forwarded_for_from_untrusted_peer_does_not_evade_the_ip_limit(client, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]
    # Each attempt claims a new address and targets a new account, so only the
    # per-IP limit can catch it.
    for i in range(5):
        response = bad_login(client, f"victim{i}@example.test", forwarded_for=f"198.51.100.{i}")
        assert not is_rate_limited(response)
    assert is_rate_limited(bad_login(client, "victim9@example.test", forwarded_for="198.51.100.99"))


def test_trusted_proxy_forwarded_for_counts_each_client_separately(client, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]
    for i in range(5):
        bad_login(client, f"victim{i}@example.test", remote_addr=PROXY, forwarded_for=ATTACKER)
    assert is_rate_limited(bad_login(client, "victim9@example.test", remote_addr=PROXY, forwarded_for=ATTACKER))
    # A different client behind the same proxy is not punished for it.
    assert not is_rate_limited(
        bad_login(client, "victim9@example.test", remote_addr=PROXY, forwarded_for="198.51.100.7")
    )


def api_error_codes(response):
    return [error["code"] for error in response.json()["errors"]]


def test_api_login_is_rate_limited(app_client, viewer):
    for _ in range(5):
        response = app_client.login("viewer@example.test", password="nope-nope-nope")
        assert api_error_codes(response) == ["email_password_mismatch"]
    response = app_client.login("viewer@example.test", password=PASSWORD)
    assert response.status_code == 400
    assert api_error_codes(response) == ["too_many_login_attempts"]
    assert "access_token" not in response.content.decode()


def test_second_factor_attempts_are_rate_limited(app_client, performer):
    app_client.login("performer@example.test")
    right = pyotp.TOTP(performer.totp_secret).now()
    wrong = str((int(right) + 500_000) % 1_000_000).zfill(6)
    responses = [app_client.call("post", "/auth/2fa/authenticate", {"code": wrong}) for _ in range(6)]
    assert [r.status_code for r in responses] == [400] * 6
    assert ["too_many_login_attempts" in api_error_codes(r) for r in responses] == [False] * 5 + [True]
    # Locked out: even the right code is refused for now.
    response = app_client.call("post", "/auth/2fa/authenticate", {"code": right})
    assert api_error_codes(response) == ["too_many_login_attempts"]


def good_login(client, email, *, remote_addr):
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD}, REMOTE_ADDR=remote_addr)


def test_strangers_on_many_addresses_cannot_lock_the_owner_out(client, viewer):
    # Issue 16: failures count per account AND address, so six strangers
    # (or one with six addresses) do not lock the owner's account.
    for i in range(6):
        assert not is_rate_limited(bad_login(client, "viewer@example.test", remote_addr=f"198.51.100.{i + 1}"))
    response = good_login(client, "viewer@example.test", remote_addr="192.0.2.77")
    assert response.status_code == 302 and not is_rate_limited(response)
    assert client.session["_auth_user_id"] == str(viewer.pk)


def test_strangers_cannot_lock_the_owner_out_of_the_api(app_client, viewer):
    for i in range(6):
        response = app_client.call(
            "post",
            "/auth/login",
            {"email": "viewer@example.test", "password": "nope-nope-nope"},
            REMOTE_ADDR=f"198.51.100.{i + 1}",
        )
        assert api_error_codes(response) == ["email_password_mismatch"]
    response = app_client.call(
        "post", "/auth/login", {"email": "viewer@example.test", "password": PASSWORD}, REMOTE_ADDR="192.0.2.77"
    )
    assert response.status_code == 200, response.content
    assert response.json()["meta"]["access_token"]


def test_one_address_trying_many_accounts_is_capped(client, viewer, outsider):
    for i in range(5):
        assert not is_rate_limited(bad_login(client, f"victim{i}@example.test"))
    # Capped for every account from that address, even with a right password...
    assert is_rate_limited(good_login(client, "outsider@example.test", remote_addr=ATTACKER))
    assert "_auth_user_id" not in client.session
    # ...but not for anyone else.
    assert good_login(client, "viewer@example.test", remote_addr="192.0.2.77").status_code == 302
