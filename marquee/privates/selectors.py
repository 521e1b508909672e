"""Reads of private, spy and group shows."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from marquee.ledger.models import Hold
from marquee.lib.signed_files import make_token, read_token
from marquee.privates.models import GroupShow, PrivateRecording, PrivateShow, RoomPrivateSettings

Kind, Status = PrivateShow.Kind, PrivateShow.Status


def room_settings(performer) -> RoomPrivateSettings:
    """The room's private settings (defaults, unsaved, if never set)."""
    return RoomPrivateSettings.objects.filter(performer=performer).first() or RoomPrivateSettings(performer=performer)


def active_private(performer) -> PrivateShow | None:
    """The private or exclusive show running in the room, if any (the room is private while it runs)."""
    return (
        PrivateShow.objects.filter(performer=performer, status=Status.ACTIVE, kind__in=[Kind.PRIVATE, Kind.EXCLUSIVE])
        .select_related("payer")
        .first()
    )


@dataclass(frozen=True)
class PrivateRoom:
    """The room is private: a private or exclusive show, or a running group
    show (issue 13).  ``media_session`` names the folder that plays
    (``live/p<session>/``, see ``shows.playback``); ``audience`` tags the chat
    said in it, which only those in it read."""

    kind: str  # private, exclusive or group
    id: int  # the private session's or the group show's id
    media_session: int
    audience: str

    @property
    def is_group(self) -> bool:
        return self.kind == Kind.GROUP


def group_media_session(group: GroupShow) -> int | None:
    """A running group show plays from the folder of its first pledge that
    started (a fixed choice: pledges that end later don't move it)."""
    return group.pledges.filter(started_at__isnull=False).order_by("pk").values_list("pk", flat=True).first()


def private_room(performer) -> PrivateRoom | None:
    """The private or group show the room is in now, if any."""
    running = active_private(performer)
    if running is not None:
        return PrivateRoom(kind=running.kind, id=running.pk, media_session=running.pk, audience=f"p{running.pk}")
    group = GroupShow.objects.filter(performer=performer, status=GroupShow.Status.RUNNING).first()
    media = group_media_session(group) if group is not None else None
    if media is None:
        return None
    return PrivateRoom(kind=Kind.GROUP, id=group.pk, media_session=media, audience=f"g{group.pk}")


def pending_requests(performer):
    """Requests waiting for the performer's answer, oldest first."""
    return (
        PrivateShow.objects.filter(
            performer=performer, status=Status.REQUESTED, kind__in=[Kind.PRIVATE, Kind.EXCLUSIVE]
        )
        .select_related("payer")
        .order_by("requested_at", "pk")
    )


def open_session(user, performer) -> PrivateShow | None:
    """``user``'s requested or running session in this room (private, spy or group pledge)."""
    if user is None or not user.is_authenticated:
        return None
    return PrivateShow.objects.filter(performer=performer, payer=user, status__in=PrivateShow.OPEN).first()


def open_group_show(performer) -> GroupShow | None:
    return GroupShow.objects.filter(
        performer=performer, status__in=[GroupShow.Status.ANNOUNCED, GroupShow.Status.RUNNING]
    ).first()


def session(pk) -> PrivateShow | None:
    return PrivateShow.objects.select_related("performer", "payer", "hold").filter(pk=pk).first()


def group_show(pk) -> GroupShow | None:
    return GroupShow.objects.select_related("performer").filter(pk=pk).first()


def held_now(session: PrivateShow) -> int:
    """Tokens still reserved for the session (0 once its hold is closed)."""
    hold = session.hold
    if hold is None or hold.status != Hold.Status.PENDING:
        return 0
    return hold.amount - hold.posted


def pledge_count(group: GroupShow) -> int:
    return group.pledges.filter(status__in=PrivateShow.OPEN).count()


def watching_session(user, performer) -> PrivateShow | None:
    """The active private, exclusive, spy or group-show session ``user`` pays for in this room."""
    if user is None or not user.is_authenticated:
        return None
    return (
        PrivateShow.objects.filter(performer=performer, payer=user, status=Status.ACTIVE)
        .select_related("parent")
        .first()
    )


def period_charges(session: PrivateShow) -> list[dict]:
    """The receipt's lines: one per charged period (posted from the session's hold)."""
    from marquee.ledger.models import Transfer

    if session.hold_id is None:
        return []
    prefix = f"privates:{session.pk}:period:"
    rows = Transfer.objects.filter(hold_id=session.hold_id, idempotency_key__startswith=prefix).values_list(
        "idempotency_key", "created_at"
    )
    lines = [
        {"period": int(key[len(prefix) :]), "tokens": session.rate_tokens, "charged_at": created}
        for key, created in rows
    ]
    return sorted(lines, key=lambda line: line["period"])


def recent_sessions(performer, limit: int = 20):
    """The room's latest private, exclusive and spy sessions (the dashboard's list)."""
    return (
        PrivateShow.objects.filter(performer=performer)
        .exclude(kind=Kind.GROUP)
        .select_related("payer")
        .order_by("-requested_at", "-pk")[:limit]
    )


# --- recordings of private shows ---------------------------------------------------

_RECORDING_SALT = "marquee.privates.recording"


def recordings_for(user, *, now=None):
    """The payer's recordings still kept (ready or being processed), newest first."""
    now = now or timezone.now()
    return (
        PrivateRecording.objects.filter(
            session__payer=user,
            status__in=[PrivateRecording.Status.READY, PrivateRecording.Status.PROCESSING],
            expires_at__gt=now,
        )
        .select_related("session__performer__user")
        .order_by("-started_at")
    )


def signed_recording_url(recording: PrivateRecording, user) -> str:
    """A URL for ``recording`` that works for ``user`` only, for ``CONTENT_URL_MAX_AGE`` seconds."""
    return reverse("private_recording_file", args=[make_token(_RECORDING_SALT, user, r=recording.pk)])


def recording_from_token(token: str, user) -> PrivateRecording | None:
    data = read_token(_RECORDING_SALT, token, user)
    if data is None:
        return None
    return PrivateRecording.objects.select_related("session__performer__user").filter(pk=data.get("r")).first()
