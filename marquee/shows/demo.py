"""Demo schedule (upcoming shows, performer2's premium one with a price) and
the demo stream's key."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from marquee.performers.models import Performer, ShowKind
from marquee.performers.selectors import stream_key_matches
from marquee.performers.services import regenerate_stream_key
from marquee.shows.models import Show

DEMO_PERFORMER = "performer1"

UPCOMING = [
    ("performer1", "Friday night requests", "public", 0, 1),
    ("performer2", "Late-night premium cook-along", "premium", 799, 2),
    ("performer3", "Sketch club", "public", 0, 3),
]


def seed(out) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for username, title, kind, price, days in UPCOMING:
        performer = Performer.objects.get(user__username=username)
        if performer.shows.filter(status=Show.Status.SCHEDULED, title=title).exists():
            continue
        Show.objects.create(
            performer=performer,
            title=title,
            kind=kind,
            price_cents=price,
            scheduled_start=now + datetime.timedelta(days=days, hours=2),
            expected_minutes=90,
        )
    seed_demo_stream(out)


def demo_key_path():
    return Path(settings.MEDIA_VAR_DIR) / "demo-stream.key"


def seed_demo_stream(out) -> None:
    """performer1 streams the demo (public room) with a key kept in var/,
    never in the repository; a fresh one whenever the file and hash disagree."""
    performer = Performer.objects.get(user__username=DEMO_PERFORMER)
    if performer.default_show_kind != ShowKind.PUBLIC:
        performer.default_show_kind = ShowKind.PUBLIC
        performer.save(update_fields=["default_show_kind"])
    path = demo_key_path()
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = ""
    if not stream_key_matches(performer, secret):
        secret = regenerate_stream_key(performer=performer)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secret)
        path.chmod(0o600)
    out.write(f"Demo stream: {DEMO_PERFORMER} publishes a test pattern (DEMO_STREAM=0 turns it off).")
