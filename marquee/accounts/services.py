"""Writes on the user's own settings."""

from __future__ import annotations

from marquee.lib.errors import DomainError
from marquee.lib.formatting import valid_zone


def set_timezone(*, user, name: str) -> str:
    """Store the zone every time is shown in (an IANA name, e.g. "Europe/Paris")."""
    zone = valid_zone((name or "").strip())
    if zone is None:
        raise DomainError("bad_timezone", "Choose a time zone from the list (for example Europe/Paris).", 400)
    if user.timezone != zone:
        user.timezone = zone
        user.save(update_fields=["timezone"])
    return zone
