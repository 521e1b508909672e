"""The frames a chat client may send come from settings
(CHAT_FRAMES_PER_SECOND, CHAT_FRAME_BURST, CHAT_MODERATOR_FRAME_FACTOR)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from marquee.chat import connection
from marquee.chat.connection import Budget
from tests.support.chat import Socket, run, session_cookie


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    # Only this module's clock: the real time module stays untouched.
    monkeypatch.setattr(connection, "time", SimpleNamespace(monotonic=fake))
    return fake


def _taken(budget: Budget, tries: int, **kwargs) -> int:
    return sum(budget.take(**kwargs) for _ in range(tries))


def test_budget_follows_the_settings(settings, clock):
    settings.CHAT_FRAMES_PER_SECOND = 4
    settings.CHAT_FRAME_BURST = 7
    budget = Budget()
    assert _taken(budget, 50) == 7
    clock.now += 0.5  # half a second at 4/s: two more
    assert _taken(budget, 50) == 2
    clock.now += 60  # refill stops at the burst
    assert _taken(budget, 50) == 7


def test_moderators_get_the_factor_from_settings(settings, clock):
    settings.CHAT_FRAMES_PER_SECOND = 2
    settings.CHAT_FRAME_BURST = 3
    settings.CHAT_MODERATOR_FRAME_FACTOR = 5
    budget = Budget()
    assert _taken(budget, 100, moderator=True) == 3  # starts with the plain burst
    clock.now += 60
    assert _taken(budget, 100, moderator=True) == 15
    clock.now += 1
    assert _taken(budget, 100, moderator=True) == 10


@pytest.mark.django_db(transaction=True)
def test_socket_drops_frames_past_the_configured_burst(viewer, performer, settings):
    # 8 pings fit in the default burst (20); with a burst of 3 at 1/s most are dropped.
    settings.CHAT_FRAMES_PER_SECOND = 1
    settings.CHAT_FRAME_BURST = 3
    cookie = session_cookie(viewer)

    async def scenario():
        s = Socket("performer", cookie=cookie)
        assert await s.connect()
        await s.event("hello")
        for i in range(8):
            await s.send({"type": "ping", "ref": f"p{i}"})
        await s.event("error", code="flood")
        events = await s.drain(0.5)
        pongs = [e for e in events if e["type"] == "pong"]
        assert 3 <= len(pongs) < 8
        await s.disconnect()

    run(scenario)
