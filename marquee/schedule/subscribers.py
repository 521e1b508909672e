"""What the schedule does when lower layers report something
(``marquee.lib.domain_events``): a show that ended is settled in the worker
(its tickets are refunded if it was too short, ``escrow``), so the media hook
that ended it does not wait for refunds.  Wired in ``ScheduleConfig.ready``."""

from __future__ import annotations

from marquee.lib import domain_events


def on_show_ended(*, show_id, **_) -> None:
    from marquee.schedule import tasks

    tasks.settle_ended_show.delay(show_id)


def on_show_started(*, show_id, **_) -> None:
    """Go-live notifications fan out in the worker (``golive``)."""
    from marquee.schedule import tasks

    tasks.notify_followers_live.delay(show_id)


def connect() -> None:
    domain_events.subscribe("show.ended", on_show_ended)
    domain_events.subscribe("show.started", on_show_started)
