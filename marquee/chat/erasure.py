"""Erasing a closed account's name from what chat still holds outside the
database: every room's recent history (the ring joins and resumes replay)."""

from __future__ import annotations

from marquee.lib import realtime

_NAME_KEYS = ("user", "from", "by")


def scrub_name_from_history(*, username: str, replacement: str) -> int:
    """Replace ``username`` wherever the rooms' recent history names a person
    (message authors, tippers, moderation events): a closed account's name
    must not come back to a client that joins or resumes."""

    def rewrite(event):
        hits = [key for key in _NAME_KEYS if event.get(key) == username]
        return {**event, **dict.fromkeys(hits, replacement)} if hits else None

    return realtime.rewrite_history(rewrite)
