"""The per-process hub: the local sockets of each room.

Each process serializes an event once, collects a room's events for
``CHAT_BATCH_WINDOW_MS`` and writes ONE frame (a JSON array) to each local
socket's bounded buffer.  A socket whose buffer overflows is closed (4408);
the client reconnects and resumes from its last id.  Nothing waits on a slow
socket, so a slow client never slows the room.  Publishing (ids, history,
Redis pub/sub) is ``marquee.lib.realtime``.

One module (~440 lines) on purpose: the room table, its flush timers, the
kept private state and the Redis reader are one object per process, and
their rules (one frame per window, a gap clears what was kept) hold only if
every path that touches a room goes through the same lock-free loop code.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections import Counter, defaultdict

from django.conf import settings

from marquee.chat import protocol
from marquee.chat.protocol import CLOSE_TOO_SLOW
from marquee.chat.wire import text_frame
from marquee.lib import realtime
from marquee.lib.metrics import chat_stats
from marquee.lib.realtime import backend, dumps

logger = logging.getLogger(__name__)

# --- Per-process hub: local sockets of each room --------------------------------------

_hubs: dict = {}
_hubs_lock = threading.Lock()


def live_hubs():
    with _hubs_lock:
        for loop in [loop for loop in _hubs if loop.is_closed()]:
            del _hubs[loop]
        return list(_hubs.values())


def get_hub() -> Hub:
    """The hub of the running event loop (one per process in production;
    one per test loop under the test communicator)."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None:
            hub = _hubs[loop] = Hub(loop)
            _warm_up()
    return hub


_warmed = False


def _warm_up():
    """Load the classifier model (~4 s of imports) before the first post needs it."""
    global _warmed
    if not _warmed:
        _warmed = True
        from marquee.chat.classifier import get_classifier

        threading.Thread(target=get_classifier, name="chat-classifier-warm-up", daemon=True).start()


# The room's private state is not known in this process: the next post asks.
UNKNOWN = object()
_versions = itertools.count(1)

# Room events after which a room's private state must be asked again (the
# id comes first, then the type: see realtime.with_id).
_PRIVATE_EVENTS = ('"type":"private_started"', '"type":"private_ended"')


class RoomState:
    __slots__ = (
        "batch",
        "flush_handle",
        "joining",
        "last_seq",
        "live",
        "private",
        "private_version",
        "subscribed",
        "viewers",
        "who",
    )

    def __init__(self):
        self.live: set = set()
        self.who: Counter = Counter()  # presence ids of the live sockets (viewers, not sockets)
        self.joining: set = set()
        self.batch: list[tuple[int, str]] = []
        self.flush_handle = None
        self.subscribed = False
        self.viewers = -1
        self.last_seq = 0
        # access.chat_room_state as last asked, kept until the room's next private event.
        self.private = UNKNOWN
        self.private_version = next(_versions)

    def forget_private(self) -> None:
        self.private = UNKNOWN
        self.private_version = next(_versions)


class Hub:
    def __init__(self, loop):
        self.loop = loop
        self.rooms: dict[str, RoomState] = {}
        self.users: dict[int, set] = defaultdict(set)
        self._pubsub = None
        self._reader = None
        self._sub_waiters: dict[str, asyncio.Event] = {}
        self._sub_lock = asyncio.Lock()
        self._background = None
        self._snapshots: dict[str, tuple[int, list]] = {}

    # Sockets come and go.

    async def join(self, conn, resume_from: int | None) -> None:
        """Register ``conn`` and send it hello + history, then live events,
        with no gap and no duplicate between the two."""
        state = self.rooms.get(conn.room)
        if state is None:
            state = self.rooms[conn.room] = RoomState()
        conn.pending = []
        state.joining.add(conn)
        if conn.user_id:
            self.users[conn.user_id].add(conn)
        self._ensure_background()
        if not state.subscribed:
            await backend().subscribe(self, conn.room)
            state.subscribed = True
        seq, ring = await backend().arecent(self, conn.room)
        state.last_seq = max(state.last_seq, seq)
        reset = False
        if resume_from is not None and _can_resume(resume_from, seq, ring):
            events = protocol.replay_after(ring, resume_from)
        else:
            reset = resume_from is not None
            events = await self.snapshot(conn.room, seq, ring)
        conn.last_id = seq
        state.joining.discard(conn)
        if conn.closed:
            return
        events.extend(raw for s, raw in conn.pending if s > seq)
        # What was said in a private or group show reaches only those in it (history and replay too).
        events = protocol.for_reader(events, conn.audience)
        if conn.pending:
            conn.last_id = max(seq, conn.pending[-1][0])
        conn.pending = None
        local = len(state.who) + (conn.presence_id not in state.who)
        hello = conn.hello(last_id=seq, reset=reset, viewers=max(state.viewers, local))
        conn.push("[" + ",".join([dumps(hello), *events]) + "]")
        state.live.add(conn)
        state.who[conn.presence_id] += 1

    def identify(self, conn, apply) -> None:
        """``apply`` makes an anonymous socket a user's: re-file it."""
        state = self.rooms.get(conn.room)
        live = state is not None and conn in state.live
        if live:
            _uncount(state, conn)
        apply()
        if live:
            state.who[conn.presence_id] += 1
        if conn.user_id:
            self.users[conn.user_id].add(conn)

    async def leave(self, conn) -> None:
        state = self.rooms.get(conn.room)
        if conn.user_id and conn in self.users.get(conn.user_id, ()):
            self.users[conn.user_id].discard(conn)
            if not self.users[conn.user_id]:
                del self.users[conn.user_id]
        if state is None:
            return
        if conn in state.live:
            state.live.discard(conn)
            _uncount(state, conn)
        state.joining.discard(conn)
        if not state.live and not state.joining:
            del self.rooms[conn.room]
            self._snapshots.pop(conn.room, None)
            if state.flush_handle is not None:
                state.flush_handle.cancel()
            if state.subscribed:
                try:
                    await backend().unsubscribe(self, conn.room)
                except Exception:  # the connection is going away anyway
                    logger.warning("unsubscribe from room %s failed", conn.room, exc_info=True)

    async def snapshot(self, room: str, seq: int, ring) -> list[str]:
        """The last N visible messages (and tips) for a fresh join: computed
        once per room and id, so a mass reconnect costs one pass."""
        cached = self._snapshots.get(room)
        if cached and cached[0] == seq:
            return list(cached[1])
        events = await protocol.join_snapshot(room, ring)
        self._snapshots[room] = (seq, events)
        return list(events)

    # The room's private state, kept for posts (access.chat_post_audience).

    def private_state(self, room: str) -> tuple[int, object]:
        """(version, state): the state is UNKNOWN until a post asked it."""
        state = self.rooms.get(room)
        return (0, UNKNOWN) if state is None else (state.private_version, state.private)

    def remember_private(self, room: str, version: int, private) -> None:
        """Keep what a post asked, unless a private event arrived while it
        asked (then what it read may be older than that event)."""
        state = self.rooms.get(room)
        if state is not None and state.private_version == version:
            state.private = private

    # Events arrive (in id order) ...

    def deliver(self, room: str, seq: int, raw: str) -> None:
        state = self.rooms.get(room)
        if state is None:
            return
        if state.last_seq and seq > state.last_seq + 1:
            # This process missed events (e.g. its subscription reconnected):
            # its sockets resume from their last id rather than skip them.
            logger.warning("room %s: events %s..%s missed; sockets resume", room, state.last_seq + 1, seq - 1)
            for conn in list(state.live):
                conn.close(CLOSE_TOO_SLOW)
            state.forget_private()  # a missed private_started / ended among them
        state.last_seq = max(state.last_seq, seq)
        if any(kind in raw for kind in _PRIVATE_EVENTS):
            state.forget_private()  # before any socket hears of it (and a post asking now keeps nothing)
        for conn in state.joining:
            if conn.pending is not None:
                conn.pending.append((seq, raw))
        state.batch.append((seq, raw))
        window = settings.CHAT_BATCH_WINDOW_MS
        if window <= 0:
            self._flush(state)
        elif state.flush_handle is None:
            state.flush_handle = self.loop.call_later(window / 1000, self._flush, state)

    def _flush(self, state: RoomState) -> None:
        state.flush_handle = None
        batch, state.batch = state.batch, []
        if not batch:
            return
        first, last = batch[0][0], batch[-1][0]
        if any(protocol.AUDIENCE_MARK in raw for _, raw in batch):
            return self._flush_scoped(state, batch, last)
        frame = "[" + ",".join(raw for _, raw in batch) + "]"
        wire = text_frame(frame)  # encoded once for every socket of the room
        delivered = 0  # a local int: the metric costs one add per flush, no lock
        for conn in list(state.live):
            if conn.last_id >= last:
                continue
            if conn.last_id < first:
                delivered += len(batch)
                conn.last_id = last
                conn.push(frame, wire)
            else:  # joined mid-window: already has the start
                part = [raw for s, raw in batch if s > conn.last_id]
                delivered += len(part)
                conn.last_id = last
                conn.push("[" + ",".join(part) + "]")
        chat_stats.deliveries += delivered

    def _flush_scoped(self, state: RoomState, batch: list[tuple[int, str]], last: int) -> None:
        """A batch with something said in a private or group show: each
        socket gets the public events and those of the audience it reads
        (its id still moves past the rest, so a resume does not ask for them)."""
        scoped = [(seq, raw, protocol.audience_of(raw)) for seq, raw in batch]
        delivered = 0
        for conn in list(state.live):
            if conn.last_id >= last:
                continue
            part = [
                raw for s, raw, audience in scoped if s > conn.last_id and (not audience or audience == conn.audience)
            ]
            conn.last_id = last
            if part:
                conn.push("[" + ",".join(part) + "]")
                delivered += len(part)
        chat_stats.deliveries += delivered

    def deliver_ephemeral(self, kind: str, name: str, raw: str) -> None:
        """Events without an id: to a room's moderators, or to one user."""
        frame = "[" + raw + "]"
        if kind == "mods":
            state = self.rooms.get(name)
            # A room's rights changed for everyone (a private show began or ended): each socket re-asks access.
            recheck = raw.startswith('{"type":"recheck_rights"')
            if recheck and state is not None:
                state.forget_private()  # a spy or pledger joined, or the show changed
            for conn in list(state.live) if state else ():
                if recheck:
                    conn.recheck.set()
                elif conn.is_moderator:
                    conn.push(frame)
        elif kind == "users":
            event = json.loads(raw)
            for conn in list(self.users.get(event.get("user_id"), ())):
                conn.user_event(event)

    # Background: presence counts and the message store.

    def _ensure_background(self):
        if self._background is None or self._background.done():
            self._background = self.loop.create_task(self._background_loop())

    async def _background_loop(self):
        from asgiref.sync import sync_to_async

        from marquee.chat import store

        flush_every = settings.CHAT_STORE_FLUSH_MS / 1000
        presence_every = settings.CHAT_PRESENCE_SECONDS
        renew_every = settings.CHAT_SOCKET_LEASE_SECONDS / 3
        since_presence = presence_every
        since_renew = 0.0
        while self.rooms or store.pending_count():
            await asyncio.sleep(flush_every)
            if store.pending_count():
                try:
                    await sync_to_async(store.flush, thread_sensitive=False)()
                except Exception:
                    logger.exception("chat store flush failed")
            since_presence += flush_every
            if since_presence >= presence_every:
                since_presence = 0
                await self._update_presence()
            since_renew += flush_every
            if since_renew >= renew_every:
                since_renew = 0
                await self._renew_leases()

    async def _renew_leases(self):
        from marquee.chat import limits

        leases = [conn.lease for state in self.rooms.values() for conn in (*state.live, *state.joining)]
        try:
            await limits.store().renew(leases)
        except Exception:
            logger.warning("renewing socket leases failed", exc_info=True)

    async def _update_presence(self):
        for room, state in list(self.rooms.items()):
            try:
                viewers = await backend().viewer_count(self, room, state.who)
            except Exception:
                logger.warning("presence update failed", exc_info=True)
                continue
            if viewers != state.viewers:
                state.viewers = viewers
                frame = "[" + dumps({"type": "presence", "viewers": viewers}) + "]"
                wire = text_frame(frame)
                for conn in list(state.live):
                    conn.push(frame, wire)

    # Redis subscription (one per room per process, on one connection).

    def async_redis(self):
        return realtime.async_client()

    async def redis_subscribe(self, *channels: str) -> None:
        async with self._sub_lock:
            if self._pubsub is None:
                # The subscriber waits for messages indefinitely: no socket
                # timeout here (an idle room is normal), health checks instead.
                import redis.asyncio

                sub = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=None, health_check_interval=30)
                self._pubsub = sub.pubsub()
                channels = (*channels, realtime.channel("users"))
            waiters = [self._sub_waiters.setdefault(c, asyncio.Event()) for c in channels]
            await self._pubsub.subscribe(*channels)
            if self._reader is None or self._reader.done():
                self._reader = self.loop.create_task(self._read())
        # Only once Redis confirmed the subscription may history be read,
        # or an event published in between would be lost.
        await asyncio.wait_for(asyncio.gather(*(w.wait() for w in waiters)), timeout=10)

    async def redis_unsubscribe(self, *channels: str) -> None:
        async with self._sub_lock:
            for c in channels:
                self._sub_waiters.pop(c, None)
            if self._pubsub is not None:
                await self._pubsub.unsubscribe(*channels)

    async def _read(self):
        room_prefix = realtime.channel("room") + ":"
        mods_prefix = realtime.channel("mods") + ":"
        users_channel = realtime.channel("users")
        pubsub = self._pubsub
        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("chat subscription read failed; retrying", exc_info=True)
                for state in self.rooms.values():
                    state.forget_private()  # events may be lost while it reconnects
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            kind = message["type"]
            if kind == "subscribe":
                waiter = self._sub_waiters.get(channel)
                if waiter:
                    waiter.set()
                continue
            if kind != "message":
                continue
            data = message["data"].decode()
            if channel.startswith(room_prefix):
                seq = int(data[6 : data.index(",")])
                self.deliver(channel[len(room_prefix) :], seq, data)
            elif channel.startswith(mods_prefix):
                self.deliver_ephemeral("mods", channel[len(mods_prefix) :], data)
            elif channel == users_channel:
                self.deliver_ephemeral("users", "", data)


def _uncount(state: RoomState, conn) -> None:
    who = conn.presence_id
    state.who[who] -= 1
    if state.who[who] <= 0:
        del state.who[who]


def _can_resume(resume_from: int, seq: int, ring) -> bool:
    if resume_from > seq or resume_from < 0:
        return False
    if resume_from == seq:
        return True
    return bool(ring) and ring[0][0] <= resume_from + 1


realtime.set_local_hubs(live_hubs)
