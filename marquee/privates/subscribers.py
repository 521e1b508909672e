"""What privates does when another app reports an event (sent on commit);
wired in ``PrivatesConfig.ready`` so shows and chat never import privates."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from marquee.lib import domain_events
from marquee.performers.models import Performer
from marquee.privates import push, selectors, services, tasks, webrtc
from marquee.privates.events import private_show_event
from marquee.privates.models import PrivateShow
from marquee.shows import playback
from marquee.shows.models import Show

logger = logging.getLogger(__name__)


def on_stream_lost(*, performer_id, at) -> None:
    """The media watchdog ended a silent show: running sessions bill no period
    begun after ``at`` and end as "stream dropped" after the grace."""
    performer = Performer.objects.filter(pk=performer_id).first()
    if performer is not None:
        services.stream_dropped(performer=performer, at=at)


def on_chat_banned(*, user_id: int, performer_id: int | None) -> None:
    """A viewer banned from a room (or site-wide): their sessions there end,
    charged only for the periods begun, the rest of each hold voided."""
    open_sessions = PrivateShow.objects.filter(payer_id=user_id, status__in=PrivateShow.OPEN)
    if performer_id is not None:
        open_sessions = open_sessions.filter(performer_id=performer_id)
    rooms = sorted(set(open_sessions.values_list("performer_id", flat=True)))
    if not rooms:
        return
    user = get_user_model().objects.get(pk=user_id)
    for performer in Performer.objects.filter(pk__in=rooms).order_by("pk"):
        services.payer_blocked(performer=performer, user=user)


def on_region_blocked(*, performer_id: int, region: str) -> None:
    """The performer blocked a region (by hand or travel mode): sessions of
    viewers who booked from it end, charged only the periods begun."""
    performer = Performer.objects.filter(pk=performer_id).first()
    if performer is not None:
        services.end_region_blocked(performer=performer)


def on_show_went_live(*, performer_id: int, show_id: int) -> None:
    """The stream came back as a new show while a private (or group show) runs (a reconnect
    within the drop grace): the private's folder replaces the public one the
    publish just opened, so the public does not see the private."""
    performer = Performer.objects.select_related("user").filter(pk=performer_id).first()
    running = selectors.private_room(performer) if performer is not None else None
    if running is not None:
        playback.open_show_media(playback.media_folder(show_id, running.media_session), performer.username)


def on_show_ended(*, show_id: int) -> None:
    """A broadcast ended: the room's sessions are billed (as dropped) at the
    next tick instead of at their next period's start."""
    performer_id = Show.objects.filter(pk=show_id).values_list("performer_id", flat=True).first()
    if performer_id is not None:
        services.broadcast_ended(performer_id=performer_id)


def on_private_event(sender, event, **kwargs) -> None:
    """Recordings follow the session: started when a private is accepted,
    stopped (then remuxed by a worker) when it ends.  Never raises: the show
    goes on without a recording rather than failing whoever ended it."""
    try:
        if event["type"] == "private.accepted":
            services.recordings.start(event["id"])
        elif event["type"] == "private.ended":
            recording = services.recordings.stop(event["id"])
            if recording is not None:
                tasks.process_recording.delay(recording.pk)
    except Exception:
        logger.exception("recording of private session %s: %s failed", event.get("id"), event["type"])


def connect() -> None:
    domain_events.subscribe("show.stream_lost", on_stream_lost)
    domain_events.subscribe("chat.banned", on_chat_banned)
    domain_events.subscribe("show.went_live", on_show_went_live)
    domain_events.subscribe("show.ended", on_show_ended)
    domain_events.subscribe("performer.region_blocked", on_region_blocked)
    private_show_event.connect(push.on_event, dispatch_uid="privates.push")
    private_show_event.connect(webrtc.on_event, dispatch_uid="privates.webrtc")
    private_show_event.connect(on_private_event, dispatch_uid="privates.recordings")
