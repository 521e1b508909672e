from __future__ import annotations

import pytest

from marquee.performers.services import regenerate_stream_key


@pytest.fixture
def stream_key(performer):
    """The performer persona's stream key secret (what OBS sends as ?key=)."""
    return regenerate_stream_key(performer=performer)
