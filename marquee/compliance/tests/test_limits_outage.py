"""Rate limits while the cache (Redis) is unreachable, as docs/operations.md
says: the general API limits fail open; login limits fail closed (503, nobody
signed in), so an outage is never an unlimited password-guessing window."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_down(monkeypatch):
    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    cache = caches["default"]
    for name in ("get", "set", "add", "incr", "delete", "get_many", "set_many", "delete_many", "touch", "has_key"):
        monkeypatch.setattr(cache, name, unreachable)


def test_api_limits_fail_open(cache_down):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/push/key/")
    assert response.status_code == 200, response.content


def test_login_limits_fail_closed(cache_down):
    user = UserFactory(email="owner@mail.example")
    client = Client(raise_request_exception=False)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
    api = client.post("/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, "application/json")
    assert api.status_code == 503 and api.json()["error"]["code"] == "store_unavailable"
