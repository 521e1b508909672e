from __future__ import annotations

import pytest

from marquee.performers.services import regenerate_stream_key


@pytest.fixture
def stream_key(performer):
    """The performer persona's stream key secret (what OBS sends as ?key=)."""
    return regenerate_stream_key(performer=performer)


@pytest.fixture
def room_events(monkeypatch):
    """Room events that left after commit, as (room, event) pairs."""
    sent = []
    monkeypatch.setattr("marquee.lib.realtime.publish_room_event", lambda room, event: sent.append((room, event)))
    return sent
