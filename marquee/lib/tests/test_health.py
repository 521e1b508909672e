"""/healthz checks what chat actually uses: the real-time publisher (Redis
when REDIS_URL is set), not a channel layer."""

from __future__ import annotations

import pytest
from django.conf import settings

from marquee.accounts.models import User
from marquee.lib import realtime

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_realtime_backend_in_use(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["realtime"] == {"status": "ok", "backend": "redis" if settings.REDIS_URL else "memory"}
    assert "channel_layer" not in body["components"]


def test_healthz_is_503_when_the_chat_redis_is_unreachable_and_changes_nothing(client, monkeypatch, viewer):
    # Port 1 on loopback refuses connections at once: the chat Redis is "down".
    monkeypatch.setattr(realtime, "_backend", realtime.RedisBackend("redis://127.0.0.1:1/0"))
    users_before = list(User.objects.values_list("pk", "username", "last_login").order_by("pk"))

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["realtime"] == {"status": "down", "error": "ConnectionError"}
    # The other components are still checked and still fine.
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["cache"]["status"] == "ok"
    assert list(User.objects.values_list("pk", "username", "last_login").order_by("pk")) == users_before
