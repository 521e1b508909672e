"""What privates does when another app reports an event (sent on commit);
wired in ``PrivatesConfig.ready`` so shows never imports privates."""

from __future__ import annotations

from marquee.lib import domain_events
from marquee.performers.models import Performer
from marquee.privates import services


def on_stream_lost(*, performer_id, at) -> None:
    """The media watchdog ended a silent show: running sessions bill no period
    begun after ``at`` and end as "stream dropped" after the grace."""
    performer = Performer.objects.filter(pk=performer_id).first()
    if performer is not None:
        services.stream_dropped(performer=performer, at=at)


def connect() -> None:
    domain_events.subscribe("show.stream_lost", on_stream_lost)
