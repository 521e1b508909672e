"""Viewers present in a room, as the chat hubs record them, for tests of
what pages show (cards, the performer's dashboard) without opening sockets.

With ``REDIS_URL``: members of the room's presence set, valid for a minute.
Without: a stand-in for this process's hubs, holding the room's viewers."""

from __future__ import annotations

import time
from collections import Counter
from types import SimpleNamespace

from django.conf import settings

from marquee.lib import realtime


class Presence:
    def __init__(self, monkeypatch):
        self._rooms: dict[str, SimpleNamespace] = {}
        self._keys: list[str] = []
        if not settings.REDIS_URL:
            hub = SimpleNamespace(rooms=self._rooms)
            monkeypatch.setattr(realtime, "_local_hubs", lambda: [hub])

    def set(self, room: str, count: int) -> None:
        who = Counter({f"u:{room}:{i}": 1 for i in range(count)})
        if settings.REDIS_URL:
            import redis

            key = realtime.channel("viewers", room)
            client = redis.Redis.from_url(settings.REDIS_URL)
            client.delete(key)
            if who:
                client.zadd(key, dict.fromkeys(who, time.time() + 60))
            self._keys.append(key)
        else:
            self._rooms[room] = SimpleNamespace(who=who)

    def clear(self) -> None:
        if settings.REDIS_URL and self._keys:
            import redis

            redis.Redis.from_url(settings.REDIS_URL).delete(*self._keys)
