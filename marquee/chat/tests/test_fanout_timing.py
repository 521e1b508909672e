"""Fan-out timing (issue 14): an event into a quiet room goes out at once,
later ones of the same window share one frame; frames queued behind a slow
send leave as one frame, in order."""

from __future__ import annotations

import asyncio
import json

from marquee.chat.connection import Connection
from marquee.chat.hub import Hub, RoomState
from marquee.lib.realtime import with_id


class FakeConn:
    def __init__(self):
        self.last_id, self.frames, self.closed, self.audience = 0, [], False, None

    def push(self, frame):
        self.frames.append(frame)


def ids(frame: str) -> list[int]:
    return [event["id"] for event in json.loads(frame)]


def test_an_event_into_a_quiet_room_goes_at_once_and_the_next_ones_share_the_windows_frame(settings):
    settings.CHAT_BATCH_WINDOW_MS = 200

    async def scenario():
        hub = Hub(asyncio.get_running_loop())
        state = hub.rooms["r"] = RoomState()
        conn = FakeConn()
        state.live.add(conn)
        hub.deliver("r", 1, with_id(1, {"type": "message", "text": "a"}))
        await asyncio.sleep(0)
        assert [ids(f) for f in conn.frames] == [[1]]  # no wait for the window
        hub.deliver("r", 2, with_id(2, {"type": "message", "text": "b"}))
        hub.deliver("r", 3, with_id(3, {"type": "message", "text": "c"}))
        assert len(conn.frames) == 1  # within the window of the last frame: they wait
        await asyncio.sleep(0.3)
        assert [ids(f) for f in conn.frames] == [[1], [2, 3]]
        await asyncio.sleep(0.25)  # quiet for a window again
        hub.deliver("r", 4, with_id(4, {"type": "message", "text": "d"}))
        await asyncio.sleep(0)
        assert [ids(f) for f in conn.frames] == [[1], [2, 3], [4]]
        if state.flush_handle is not None:
            state.flush_handle.cancel()

    asyncio.run(scenario())


def test_frames_queued_behind_a_slow_send_leave_as_one_frame_in_order(settings):
    settings.CHAT_CLIENT_BUFFER_FRAMES = 50

    async def scenario():
        release = asyncio.Event()
        sent = []

        async def send(message):
            if not sent and not release.is_set():
                await release.wait()  # the first write has to wait (a slow client)
            sent.append(message.get("text"))

        conn = Connection(send, "r")
        conn.push('[{"id":1}]')
        for i in range(2, 6):
            conn.push(f'[{{"id":{i}}}]')
        release.set()
        await conn.driver
        assert [ids(t) for t in sent] == [[1], [2, 3, 4, 5]]

    asyncio.run(scenario())
