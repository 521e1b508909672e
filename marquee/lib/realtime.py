"""Publishing real-time events: ids, recent history and delivery to every
process holding sockets.

One publish per event per room.  The event gets the room's next id, goes into
the room's recent history (for resume) and out to every process holding
sockets in that room, atomically, so every process sees ids in order:

* ``REDIS_URL`` set: a Lua script does INCR + ZADD + PUBLISH; each process
  keeps ONE subscription per room it has sockets in (``marquee.chat.hub``).
* embedded default: the same in memory, handed to this process's hubs.

This is a mechanism only: it knows no app.  The per-process sockets live in
``marquee.chat.hub``, which registers itself here with ``set_local_hubs``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import uuid
from collections import Counter, defaultdict, deque

from django.conf import settings

logger = logging.getLogger(__name__)
PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def dumps(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def with_id(seq: int, event: dict) -> str:
    # The id goes first and is spliced in so the body is serialized once.
    return f'{{"id":{seq},' + dumps(event)[1:]


def channel(kind: str, name: str = "") -> str:
    return f"{settings.CHAT_CHANNEL_PREFIX}:{kind}:{name}" if name else f"{settings.CHAT_CHANNEL_PREFIX}:{kind}"


_async_clients: dict = {}
_async_clients_lock = threading.Lock()


def async_client():
    """The asyncio Redis client of the running event loop (one per process in
    production, one per test loop)."""
    loop = asyncio.get_running_loop()
    with _async_clients_lock:
        for old in [old for old in _async_clients if old.is_closed()]:
            del _async_clients[old]
        client = _async_clients.get(loop)
        if client is None:
            import redis.asyncio

            client = _async_clients[loop] = redis.asyncio.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=settings.CHAT_REDIS_SOCKET_TIMEOUT,
                socket_connect_timeout=settings.CHAT_REDIS_SOCKET_TIMEOUT,
                max_connections=settings.CHAT_REDIS_MAX_CONNECTIONS,
                health_check_interval=30,
            )
    return client


def _no_hubs():
    return []


# The in-memory backend hands events to this process's hubs (set by chat.hub).
_local_hubs = _no_hubs


def set_local_hubs(provider) -> None:
    global _local_hubs
    _local_hubs = provider


# --- Backends ---------------------------------------------------------------------


class MemoryBackend:
    """Ids, history and delivery inside this process (embedded default)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seq: dict[str, int] = defaultdict(int)
        self._rings: dict[str, deque] = {}

    def _ring(self, room):
        ring = self._rings.get(room)
        if ring is None:
            ring = self._rings[room] = deque(maxlen=settings.CHAT_HISTORY_EVENTS)
        return ring

    def publish(self, room: str, event: dict) -> int:
        with self._lock:
            seq = self._seq[room] + 1
            self._seq[room] = seq
            raw = with_id(seq, event)
            self._ring(room).append((seq, raw))
            # Inside the lock: hubs receive events in id order.
            for hub in _local_hubs():
                hub.loop.call_soon_threadsafe(hub.deliver, room, seq, raw)
        return seq

    def publish_ephemeral(self, kind: str, name: str, event: dict) -> None:
        raw = dumps(event)
        for hub in _local_hubs():
            hub.loop.call_soon_threadsafe(hub.deliver_ephemeral, kind, name, raw)

    def recent(self, room: str) -> tuple[int, list[tuple[int, str]]]:
        with self._lock:
            return self._seq[room], list(self._ring(room))

    async def arecent(self, hub, room: str):
        return self.recent(room)

    def rewrite_history(self, rewrite) -> int:
        changed = 0
        with self._lock:
            for ring in self._rings.values():
                for index, (seq, raw) in enumerate(ring):
                    new = _rewritten(seq, raw, rewrite)
                    if new is not None:
                        ring[index] = (seq, new)
                        changed += 1
        return changed

    async def subscribe(self, hub, room: str) -> None:
        return None

    async def unsubscribe(self, hub, room: str) -> None:
        return None

    async def viewer_count(self, hub, room: str, who: Counter) -> int:
        return len(who)

    def viewer_counts(self, rooms: list[str]) -> dict[str, int]:
        """Distinct viewers per room over this process's hubs (the only ones)."""
        counts = {}
        for room in rooms:
            who: set = set()
            for hub in _local_hubs():
                state = hub.rooms.get(room)
                if state is not None:
                    who.update(list(state.who))  # a copy: the hub's loop may change it meanwhile
            counts[room] = len(who)
        return counts

    def ping(self) -> str:
        return "memory"

    def reset(self):
        with self._lock:
            self._seq.clear()
            self._rings.clear()


_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[1])
local raw = '{"id":' .. seq .. ',' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, raw)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
redis.call('EXPIRE', KEYS[1], 604800)
redis.call('EXPIRE', KEYS[2], 604800)
redis.call('PUBLISH', KEYS[3], raw)
return seq
"""

_RECENT_LUA = """
return {redis.call('GET', KEYS[1]) or '0', redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')}
"""


class RedisBackend:
    """Ids and history in Redis; one pub/sub subscription per room per process."""

    def __init__(self, url: str):
        self.url = url
        self._sync = None
        self._sync_pid = None

    def _client(self):
        import redis

        if self._sync is None or self._sync_pid != os.getpid():
            self._sync = redis.Redis.from_url(
                self.url,
                socket_timeout=settings.CHAT_REDIS_SOCKET_TIMEOUT,
                socket_connect_timeout=settings.CHAT_REDIS_SOCKET_TIMEOUT,
                max_connections=settings.CHAT_REDIS_MAX_CONNECTIONS,
            )
            self._sync_pid = os.getpid()
            self._publish_script = self._sync.register_script(_PUBLISH_LUA)
            self._recent_script = self._sync.register_script(_RECENT_LUA)
        return self._sync

    @staticmethod
    def _keys(room):
        return [channel("seq", room), channel("history", room), channel("room", room)]

    def publish(self, room: str, event: dict) -> int:
        self._client()
        body = dumps(event)[1:]
        return int(self._publish_script(keys=self._keys(room), args=[body, settings.CHAT_HISTORY_EVENTS]))

    def publish_ephemeral(self, kind: str, name: str, event: dict) -> None:
        self._client().publish(channel(kind, name) if name else channel(kind), dumps(event))

    @staticmethod
    def _parse_recent(result):
        seq_raw, flat = result
        pairs = [(int(float(flat[i + 1])), flat[i].decode()) for i in range(0, len(flat), 2)]
        return int(seq_raw), pairs

    def recent(self, room: str):
        self._client()
        keys = self._keys(room)[:2]
        return self._parse_recent(self._recent_script(keys=keys))

    async def arecent(self, hub, room: str):
        result = await async_client().eval(_RECENT_LUA, 2, *self._keys(room)[:2])
        return self._parse_recent(result)

    def rewrite_history(self, rewrite) -> int:
        """Every room's history, entry by entry, under WATCH: a publish in
        between makes that room's rewrite start over, so none is lost."""
        import redis

        client, changed = self._client(), 0
        for key in client.scan_iter(match=channel("history", "*"), count=1000):
            while True:
                with client.pipeline() as pipe:
                    try:
                        pipe.watch(key)
                        updates = [
                            (raw, int(score), new)
                            for raw, score in pipe.zrange(key, 0, -1, withscores=True)
                            if (new := _rewritten(int(score), raw.decode(), rewrite)) is not None
                        ]
                        if not updates:
                            break
                        pipe.multi()
                        for raw, seq, new in updates:
                            pipe.zrem(key, raw)
                            pipe.zadd(key, {new: seq})
                        pipe.execute()
                        changed += len(updates)
                        break
                    except redis.WatchError:
                        continue
        return changed

    async def subscribe(self, hub, room: str) -> None:
        await hub.redis_subscribe(channel("room", room), channel("mods", room))

    async def unsubscribe(self, hub, room: str) -> None:
        await hub.redis_unsubscribe(channel("room", room), channel("mods", room))

    async def viewer_count(self, hub, room: str, who: Counter) -> int:
        """Distinct viewers over every process: each process refreshes its
        local viewers (users, anonymous addresses) in one sorted set, scored
        by when they lapse; those not refreshed for three presence periods
        (gone, or a dead process) drop out.  Many sockets of one viewer
        count once."""
        import time

        client = async_client()
        key = channel("viewers", room)
        now = time.time()
        ttl = settings.CHAT_PRESENCE_SECONDS * 3
        async with client.pipeline(transaction=False) as pipe:
            if who:
                pipe.zadd(key, dict.fromkeys(who, now + ttl))
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.expire(key, ttl)
            pipe.zcard(key)
            results = await pipe.execute()
        return int(results[-1])

    def viewer_counts(self, rooms: list[str]) -> dict[str, int]:
        """The presence sets ``viewer_count`` keeps, read in one round trip:
        members not yet lapsed."""
        import time

        now = time.time()
        with self._client().pipeline(transaction=False) as pipe:
            for room in rooms:
                pipe.zcount(channel("viewers", room), now, "+inf")
            return {room: int(n) for room, n in zip(rooms, pipe.execute(), strict=True)}

    def ping(self) -> str:
        self._client().ping()
        return "redis"

    def reset(self):
        client = self._client()
        for key in client.scan_iter(match=f"{settings.CHAT_CHANNEL_PREFIX}:*", count=1000):
            client.delete(key)


def _rewritten(seq: int, raw: str, rewrite) -> str | None:
    event = json.loads(raw)
    event.pop("id", None)
    new = rewrite(event)
    return None if new is None else with_id(seq, new)


_backend = None


def backend():
    global _backend
    if _backend is None:
        _backend = RedisBackend(settings.REDIS_URL) if settings.REDIS_URL else MemoryBackend()
    return _backend


VIEWER_COUNTS_CACHE_SECONDS = 5


def viewer_counts(rooms) -> dict[str, int]:
    """How many watch each room now, as the chat counts them (the number a
    room page shows), for cards and dashboards.  Cached a few seconds per
    room; one cache read and at most one Redis round trip for any number of
    rooms.  A presence store that is down counts nobody (cards still render)."""
    from django.core.cache import cache

    rooms = list(dict.fromkeys(rooms))
    if not rooms:
        return {}
    keys = {room: f"realtime:viewers:{room}" for room in rooms}
    cached = cache.get_many(list(keys.values()))
    counts = {room: cached[key] for room, key in keys.items() if key in cached}
    missing = [room for room in rooms if room not in counts]
    if missing:
        try:
            fresh = backend().viewer_counts(missing)
        except Exception:
            logger.warning("reading viewer counts failed", exc_info=True)
            return {**dict.fromkeys(missing, 0), **counts}
        cache.set_many({keys[room]: n for room, n in fresh.items()}, VIEWER_COUNTS_CACHE_SECONDS)
        counts.update(fresh)
    return counts


# --- Public API (called on commit by marquee.lib.events) ----------------------------


def publish_room_event(room: str, event: dict) -> int:
    """Give ``event`` the room's next id, keep it for resume, deliver it
    everywhere.  Returns the id.  ``id`` is the room's event id, so a
    payload's own ``id`` (a tip's) travels as ``<type>_id``."""
    if "id" in event:
        event = {**event, f"{event.get('type', 'event')}_id": event["id"]}
        del event["id"]
    return backend().publish(room, event)


def publish_moderator_event(room: str, event: dict) -> None:
    """Moderators of the room only; no id, not replayed."""
    backend().publish_ephemeral("mods", room, event)


def publish_user_event(user_id: int, event: dict) -> None:
    """To every socket of one user (logout, site ban, room ban)."""
    backend().publish_ephemeral("users", "", {**event, "user_id": user_id})


def rewrite_history(rewrite) -> int:
    """Apply ``rewrite(event) -> new event | None (unchanged)`` to the recent
    history of every room, keeping each event's id (erasure of a closed
    account's name); returns how many events changed."""
    return backend().rewrite_history(rewrite)


def recent_events(room: str) -> tuple[int, list[tuple[int, str]]]:
    return backend().recent(room)
