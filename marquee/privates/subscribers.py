"""What privates does when lower layers report something (``lib.domain_events``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from marquee.performers.models import Performer
from marquee.privates import selectors, services
from marquee.privates.models import PrivateShow
from marquee.shows import playback


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


def on_show_went_live(*, performer_id: int, show_id: int) -> None:
    """The stream came back as a new show while a private runs (a reconnect
    within the drop grace): the private's folder replaces the public one the
    publish just opened, so the public does not see the private."""
    performer = Performer.objects.select_related("user").filter(pk=performer_id).first()
    running = selectors.active_private(performer) if performer is not None else None
    if running is not None:
        playback.open_show_media(playback.media_folder(show_id, running.pk), performer.username)
