"""How many chat sockets one IP address, one user and one session may hold.

Each socket takes a lease in a counter per key (``ip:…``, ``user:…``,
``session:…``) and gives it back when it closes.  With ``REDIS_URL`` the
counters are Redis sorted sets shared by every process (member: the socket,
score: when its lease lapses), so a process that dies without closing its
sockets frees their places after ``CHAT_SOCKET_LEASE_SECONDS``; the hub renews
the leases of its live sockets well before that.  The embedded default
counts in this process.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import threading
import time
from collections import defaultdict

from django.conf import settings

from marquee.lib import realtime

logger = logging.getLogger(__name__)
_ids = itertools.count(1)

_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def limit_for(kind: str) -> int:
    return {
        "ip": settings.CHAT_MAX_SOCKETS_PER_IP,
        "user": settings.CHAT_MAX_SOCKETS_PER_USER,
        "session": settings.CHAT_MAX_SOCKETS_PER_SESSION,
    }[kind]


class _Memory:
    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = defaultdict(set)

    async def acquire(self, key: str, member: str, limit: int) -> bool:
        with self._lock:
            held = self._held[key]
            if member in held:
                return True
            if len(held) >= limit:
                return False
            held.add(member)
            return True

    async def release(self, keys: list[str], member: str) -> None:
        with self._lock:
            for key in keys:
                held = self._held.get(key)
                if held is not None:
                    held.discard(member)
                    if not held:
                        del self._held[key]

    async def renew(self, leases: list) -> None:
        return None

    def reset(self) -> None:
        with self._lock:
            self._held.clear()


# Leases renewed per Redis round trip (each socket has 1-3 keys, 2 commands a key).
RENEW_CHUNK = 200


class _Redis:
    """Calls wait for one of half the loop's Redis connections: thousands of
    sockets opening or closing at once would otherwise ask the pool for more
    connections than it has (``MaxConnectionsError``; their places then stayed
    taken until their lease lapsed), and posts keep the other half."""

    def __init__(self):
        self._slots: dict = {}

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slot = self._slots.get(loop)
        if slot is None:
            for old in [old for old in self._slots if old.is_closed()]:
                del self._slots[old]
            slot = self._slots[loop] = asyncio.Semaphore(max(1, settings.CHAT_REDIS_MAX_CONNECTIONS // 2))
        return slot

    @staticmethod
    def _key(key: str) -> str:
        return realtime.channel("sockets", key)

    async def acquire(self, key: str, member: str, limit: int) -> bool:
        now = time.time()
        lease = settings.CHAT_SOCKET_LEASE_SECONDS
        client = realtime.async_client()
        async with self._slot():
            result = await client.eval(_ACQUIRE_LUA, 1, self._key(key), now, limit, member, now + lease, lease * 2)
        return bool(int(result))

    async def release(self, keys: list[str], member: str) -> None:
        if not keys:
            return
        async with self._slot(), realtime.async_client().pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrem(self._key(key), member)
            await pipe.execute()

    async def renew(self, leases: list) -> None:
        """Push back the lapse time of live sockets' leases, ``RENEW_CHUNK``
        leases a round trip: building and reading a pipeline runs on the
        event loop (~10 µs a command), so one pipeline for 3,000 sockets held
        every room's fan-out for ~1 s (the p99 stalls in bench/chat_fanout)."""
        lease = settings.CHAT_SOCKET_LEASE_SECONDS
        until = time.time() + lease
        for start in range(0, len(leases), RENEW_CHUNK):
            async with self._slot(), realtime.async_client().pipeline(transaction=False) as pipe:
                for item in leases[start : start + RENEW_CHUNK]:
                    for key in item.keys:
                        pipe.zadd(self._key(key), {item.member: until}, xx=True)
                        pipe.expire(self._key(key), lease * 2)
                await pipe.execute()

    def reset(self) -> None:
        return None  # the realtime backend's reset deletes every key under the chat prefix


_store = None


def store():
    global _store
    if _store is None:
        _store = _Redis() if settings.REDIS_URL else _Memory()
    return _store


class Lease:
    """One socket's places: taken key by key as the socket learns who it is
    (its IP at once, its user and session once authenticated)."""

    def __init__(self):
        self.member = f"{realtime.PROCESS_ID}:{next(_ids)}"
        self.keys: list[str] = []

    async def take(self, kind: str, value) -> bool:
        if value in (None, ""):
            return True
        if kind == "session":  # session keys are secrets: only a digest goes to Redis
            value = hashlib.sha256(str(value).encode()).hexdigest()[:32]
        key = f"{kind}:{value}"
        if key in self.keys:
            return True
        if not await store().acquire(key, self.member, limit_for(kind)):
            return False
        self.keys.append(key)
        return True

    async def release(self) -> None:
        keys, self.keys = self.keys, []
        try:
            await store().release(keys, self.member)
        except Exception:  # Redis unreachable: the places lapse with the lease
            logger.warning("releasing socket places failed", exc_info=True)
