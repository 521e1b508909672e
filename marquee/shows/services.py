"""Show lifecycle driven by the media server's hooks: publish → live,
update → keep or cut, publish done → ended.  Every accept, refusal and cut
leaves an audit row; a refusal changes nothing else."""

from __future__ import annotations

import datetime
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.audit.services import record_audit
from marquee.compliance import policy
from marquee.compliance.records import unverified_co_performers
from marquee.lib import domain_events
from marquee.lib.decisions import ALLOW, Decision, deny
from marquee.lib.events import send_room_event
from marquee.lib.fields import clip
from marquee.performers.models import Performer, ShowKind
from marquee.performers.selectors import stream_key_matches
from marquee.shows import ingest_credentials, playback
from marquee.shows.models import Show
from marquee.shows.tasks import refresh_live_thumbnail


def _find_performer(username: str) -> Performer | None:
    return Performer.objects.select_related("user").filter(user__username=username).first()


def _audit_media(action: str, *, performer: Performer | None, username: str, session: str, addr: str, **details):
    record_audit(
        action=action,
        actor_id=performer.user_id if performer else None,
        ip=addr,
        user_agent="media-server",
        target=performer,
        target_type="" if performer else "performers.performer",
        target_id="" if performer else clip(username, AuditEvent, "target_id"),
        details={"stream": clip(username, get_user_model(), "username"), "session": session, **details},
    )


def _refuse(code: str, message: str, *, performer, username, session, addr) -> Decision:
    with transaction.atomic():
        _audit_media(
            "media.publish_refused", performer=performer, username=username, session=session, addr=addr, code=code
        )
    return deny(code, message, 403)


def _show_to_start(performer: Performer, now) -> Show:
    """The scheduled show starting about now, or a new one from the room defaults."""
    window = datetime.timedelta(minutes=settings.SHOW_START_WINDOW_MINUTES)
    scheduled = (
        performer.shows.select_for_update()
        .filter(status=Show.Status.SCHEDULED, scheduled_start__gte=now - window, scheduled_start__lte=now + window)
        .order_by("scheduled_start")
        .first()
    )
    if scheduled is not None:
        return scheduled
    kind = performer.default_show_kind
    price = {ShowKind.PREMIUM: performer.default_ticket_price_cents, ShowKind.PRIVATE: 0}.get(kind, 0)
    if kind == ShowKind.PREMIUM and price <= 0:
        kind = ShowKind.PUBLIC
    return Show(
        performer=performer,
        title=clip(performer.room_topic or f"{performer.display_name} live", Show, "title"),
        kind=kind,
        price_cents=price if kind == ShowKind.PREMIUM else 0,
        scheduled_start=now,
    )


def start_publish(*, username: str, key: str, session: str, addr: str = "") -> Decision:
    """``on_publish``: go live, or refuse (unknown performer, wrong key, not
    allowed to stream, already live)."""
    where = {"username": username, "session": session, "addr": addr}
    performer = _find_performer(username)
    if performer is None:
        return _refuse("unknown_stream", "No such stream.", performer=None, **where)
    # The OBS stream key, or a credential the server minted for its own relay (WHIP).
    if not (stream_key_matches(performer, key) or ingest_credentials.redeem(performer, key)):
        return _refuse("bad_key", "Invalid stream key.", performer=performer, **where)
    allowed = policy.can_stream(performer)
    if not allowed:
        return _refuse(allowed.code, allowed.message, performer=performer, **where)
    now = timezone.now()
    try:
        with transaction.atomic():
            Performer.objects.select_for_update().filter(pk=performer.pk).first()
            if performer.shows.filter(status=Show.Status.LIVE).exists():
                raise IntegrityError("already live")
            show = _show_to_start(performer, now)
            unverified = unverified_co_performers(show) if show.pk else []
            if unverified:
                # 2257: everyone who appears must be verified; roll back and refuse.
                raise _CoPerformersUnverified(", ".join(p.display_name for p in unverified))
            show.status = Show.Status.LIVE
            show.started_at = now
            show.media_session = session
            show.media_seen_at = now
            show.save()
            _audit_media("media.publish_accepted", performer=performer, show=show.pk, **where)
            send_room_event(username, "show_started", {"show_id": show.pk, "kind": show.kind, "title": show.title})
            domain_events.send("show.started", show_id=show.pk, performer_id=performer.pk)
            transaction.on_commit(lambda: playback.open_show_media(show.pk, username))
            # After the folder opens (on commit, in order): a private still running takes it back.
            domain_events.send("show.went_live", performer_id=performer.pk, show_id=show.pk)
            # The first preview once a few segments exist; then every on_update.
            transaction.on_commit(lambda: refresh_live_thumbnail.apply_async((username,), countdown=5))
    except IntegrityError:
        # Another publish won (the database allows one live show per performer).
        return _refuse("already_live", "This performer is already live.", performer=performer, **where)
    except _CoPerformersUnverified as exc:
        message = f"Co-performers must be verified before this show can go live: {exc}."
        return _refuse("co_performer_not_verified", message, performer=performer, **where)
    return ALLOW


def can_go_live(performer: Performer) -> Decision:
    """The go-live checks a publisher can be told before it connects (WHIP
    asks up front); ``start_publish`` runs them again, authoritatively."""
    allowed = policy.can_stream(performer)
    if not allowed:
        return allowed
    if performer.shows.filter(status=Show.Status.LIVE).exists():
        return deny("already_live", "This performer is already live.", 409)
    return ALLOW


class _CoPerformersUnverified(Exception):
    pass


def _end(show: Show, *, now) -> None:
    show.status = Show.Status.ENDED
    show.ended_at = now
    show.save(update_fields=["status", "ended_at"])
    transaction.on_commit(lambda: playback.close_show_media(show.pk))
    domain_events.send("show.ended", show_id=show.pk)  # billing settles its tickets (escrow)
    send_room_event(show.performer.username, "show_ended", {"show_id": show.pk, "kind": show.kind, "title": show.title})


# nginx may send the first update while our answer to its publish call is
# still on the way; an update this young without its show is not a cut.
PUBLISH_IN_FLIGHT_SECONDS = 10


def check_publish(*, username: str, session: str, seconds_live: int = 0, addr: str = "") -> Decision:
    """``on_update``: keep the stream, or cut it when its performer may no
    longer stream, its key was regenerated, or its show is no longer live."""
    performer = _find_performer(username)
    show = performer.shows.filter(status=Show.Status.LIVE).first() if performer else None
    reason = ""
    if show is None and performer is not None and seconds_live < PUBLISH_IN_FLIGHT_SECONDS:
        return ALLOW
    if show is None or show.media_session != session:
        reason = "not_live"
    elif not (allowed := policy.can_stream(performer)):
        reason = allowed.code
    elif performer.stream_key_rotated_at and performer.stream_key_rotated_at > show.started_at:
        reason = "key_regenerated"
    now = timezone.now()
    with transaction.atomic():
        if not reason:
            Show.objects.filter(pk=show.pk).update(media_seen_at=now)
            transaction.on_commit(lambda: refresh_live_thumbnail.delay(username))
            return ALLOW
        _audit_media(
            "media.stream_cut", performer=performer, username=username, session=session, addr=addr, reason=reason
        )
        # Ending here too: the media server's publish-done may never arrive.
        if show is not None and show.media_session == session:
            _end(show, now=now)
    return deny(reason, "Stream cut.", 403)


def end_publish(*, username: str, session: str, addr: str = "") -> Show | None:
    """``on_publish_done``: end the show this connection was publishing (a
    refused duplicate publisher's done-call ends nothing).  Idempotent."""
    performer = _find_performer(username)
    if performer is None:
        return None
    with transaction.atomic():
        show = performer.shows.select_for_update().filter(status=Show.Status.LIVE, media_session=session).first()
        if show is None:
            return None
        _end(show, now=timezone.now())
        _audit_media("media.publish_done", performer=performer, username=username, session=session, addr=addr)
    return show


def end_show_by_staff(*, show: Show, actor, reason: str = "", request=None) -> bool:
    """Staff end a live show: it ends now (viewers' playback stops, the room
    hears ``show_ended``) and the media server cuts the stream at its next
    update, which no longer finds a live show.  False if it was not live."""
    with transaction.atomic():
        locked = Show.objects.select_for_update().filter(pk=show.pk, status=Show.Status.LIVE).first()
        if locked is None:
            return False
        _end(locked, now=timezone.now())
        record_audit(
            action="show.ended_by_staff",
            actor=actor,
            request=request,
            target=locked,
            details={"reason": (reason or "")[: settings.AUDIT_DETAIL_MAX_CHARS], "session": locked.media_session},
        )
    show.refresh_from_db()
    return True


def end_orphaned_shows() -> int:
    """When the media server (re)starts nobody is publishing: end shows left live."""
    ended = 0
    for show in Show.objects.filter(status=Show.Status.LIVE).select_related("performer__user"):
        with transaction.atomic():
            if Show.objects.filter(pk=show.pk, status=Show.Status.LIVE).exists():
                _end(show, now=timezone.now())
                record_audit(action="show.ended_orphaned", target=show, details={"session": show.media_session})
                ended += 1
    return ended


def end_silent_shows(*, now=None) -> list[Show]:
    """Watchdog: a media server that dies (killed, host lost) sends no
    ``publish_done``, and its ``on_update`` calls stop.  End every live show
    not heard from for ``MEDIA_STALE_SECONDS``; returns the shows ended.
    Each sends ``show.stream_lost`` on commit (privates stop billing)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.MEDIA_STALE_SECONDS)
    silent = Q(media_seen_at__lt=cutoff) | Q(media_seen_at__isnull=True, started_at__lt=cutoff)
    ended = []
    for pk in Show.objects.filter(silent, status=Show.Status.LIVE).values_list("pk", flat=True):
        with transaction.atomic():
            # Re-read under lock: an update may have arrived since the scan.
            show = Show.objects.select_for_update().filter(silent, pk=pk, status=Show.Status.LIVE).first()
            if show is None:
                continue
            _end(show, now=now)
            record_audit(
                action="media.stream_silent",
                target=show,
                details={
                    "session": show.media_session,
                    "last_seen": (show.media_seen_at or show.started_at).isoformat(),
                },
            )
            domain_events.send(
                "show.stream_lost", performer_id=show.performer_id, at=show.media_seen_at or show.started_at
            )
            ended.append(show)
    return ended


# A viewer's player refreshes the room state at least every 30 s while it
# plays; the time between two refreshes is watch time (capped, so a tab left
# asleep for an hour does not count as an hour of watching).
WATCH_HEARTBEAT_CAP_SECONDS = 60


def record_watch_heartbeat(*, user, performer: Performer, now: float | None = None) -> int:
    """Counts the seconds since this viewer's previous heartbeat for this room
    as watch time (recommendations); returns the seconds counted."""
    if not user.is_authenticated or user.pk == performer.user_id:
        return 0
    now = time.time() if now is None else now
    key = f"watch-heartbeat:{user.pk}:{performer.pk}"
    previous = cache.get(key)
    cache.set(key, now, timeout=WATCH_HEARTBEAT_CAP_SECONDS * 2)
    if previous is None:
        return 0
    seconds = int(min(max(now - previous, 0), WATCH_HEARTBEAT_CAP_SECONDS))
    if seconds:
        domain_events.send("show.watched", user_id=user.pk, performer_id=performer.pk, seconds=seconds)
    return seconds
