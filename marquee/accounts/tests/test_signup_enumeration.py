"""Issue 14: signing up with a registered address must cost the same as with
a new one (both hash a password), so timing does not reveal accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import get_hasher

from marquee.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def hasher_calls(monkeypatch):
    """Counts password hashes by the configured default hasher."""
    hasher_class = type(get_hasher("default"))
    real_encode = hasher_class.encode
    calls = []

    def counting_encode(self, password, salt, *args, **kwargs):
        calls.append(password)
        return real_encode(self, password, salt, *args, **kwargs)

    monkeypatch.setattr(hasher_class, "encode", counting_encode)
    return calls


def _api_signup(app_client, email, username):
    return app_client.call(
        "post",
        "/auth/signup",
        {"email": email, "username": username, "password": "a-long-enough-password-1", "date_of_birth": "1990-01-01"},
    )


def _web_signup(client, email, username):
    return client.post(
        "/accounts/signup/",
        {
            "email": email,
            "username": username,
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "date_of_birth": "1990-01-01",
        },
    )


def test_api_signup_hashes_a_password_for_new_and_registered_addresses(app_client, viewer, hasher_calls):
    new = _api_signup(app_client, "brand.new@example.test", "brandnew")
    new_hashes = len(hasher_calls)
    hasher_calls.clear()
    app_client.session_token = None
    registered = _api_signup(app_client, viewer.email, "someone-else")
    registered_hashes = len(hasher_calls)

    # Same answer, and the same work behind it.
    assert new.status_code == registered.status_code == 401
    assert new.json()["data"]["flows"] == registered.json()["data"]["flows"]
    assert new_hashes == 1
    assert registered_hashes == new_hashes
    assert not User.objects.filter(username="someone-else").exists()


def test_web_signup_hashes_a_password_for_new_and_registered_addresses(client, viewer, hasher_calls):
    new = _web_signup(client, "brand.new@example.test", "brandnew")
    new_hashes = len(hasher_calls)
    hasher_calls.clear()
    client.logout()
    registered = _web_signup(client, viewer.email, "someone-else")

    assert new.status_code == registered.status_code == 302
    assert new["Location"] == registered["Location"]
    assert new_hashes == 1
    assert len(hasher_calls) == new_hashes
