"""Media hooks (stream dropped / resumed), moderation (payer blocked) and the
worker: billing ticks, request expiry, group deadlines and the hold sweeper.
Crash safety: every room is ticked in its own transaction, so a crash loses
at most that room's tick, which the next one redoes (each period posts with
its own idempotency key).

The tick visits only due sessions (``next_bill_at``, indexed) and takes them
room by room with ``FOR UPDATE SKIP LOCKED`` on the room's row, so several
worker processes share one due set and a long tick never blocks the next."""

from __future__ import annotations

import contextlib
import datetime

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import money
from marquee.ledger.models import Hold
from marquee.privates.models import GroupShow, PrivateShow, RoomPrivateSettings
from marquee.privates.services.core import (
    Kind,
    Reason,
    Status,
    _Audit,
    _bill,
    _close,
    _lock_room,
    _lock_session,
    end_sessions,
)
from marquee.privates.services.groups import _close_group, _lock_group
from marquee.shows.models import Show

# --- media hooks, moderation ---------------------------------------------------------


def stream_dropped(*, performer, at=None) -> int:
    """The performer's stream went down (media hook): sessions bill no period
    begun after ``at`` and end once it stays down past the grace."""
    at = at or timezone.now()
    with transaction.atomic():
        _lock_room(performer.pk)
        return PrivateShow.objects.filter(
            performer=performer, status=Status.ACTIVE, stream_dropped_at__isnull=True
        ).update(stream_dropped_at=at, next_bill_at=None)


def stream_resumed(*, performer, now=None) -> int:
    """Back within the grace: the sessions go on (the time down counts as elapsed)."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=settings.PRIVATE_STREAM_DROP_GRACE_SECONDS)
    with transaction.atomic():
        _lock_room(performer.pk)
        return PrivateShow.objects.filter(
            performer=performer, status=Status.ACTIVE, stream_dropped_at__gt=now - grace
        ).update(stream_dropped_at=None, next_bill_at=None)


def broadcast_ended(*, performer_id: int) -> int:
    """The room's broadcast ended (``show.ended``): its sessions are looked at
    by the next tick, which counts it as a drop, rather than at their next period."""
    with transaction.atomic():
        _lock_room(performer_id)
        return PrivateShow.objects.filter(performer_id=performer_id, status=Status.ACTIVE).update(next_bill_at=None)


def payer_blocked(*, performer, user, now=None, actor=None) -> int:
    """A viewer was banned from the room or is now region-blocked: their
    sessions end, charged only for the periods begun (``end_sessions``)."""
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        _lock_room(performer.pk)
        open_sessions = PrivateShow.objects.filter(performer=performer, payer=user, status__in=PrivateShow.OPEN)
        ended = end_sessions(open_sessions.values_list("pk", flat=True), reason=Reason.BLOCKED, now=now, audit=audit)
        audit.write(actor=actor)
    return ended


# --- the worker: ticks and sweeps ------------------------------------------------------


def _due(now):
    return Q(status=Status.ACTIVE) & (Q(next_bill_at__isnull=True) | Q(next_bill_at__lte=now))


def _claim_due_room(now) -> int | None:
    """Lock the room of the most overdue session that no other worker holds
    (one query; the room's row first, as every write of a room)."""
    due = Q(performer__private_shows__status=Status.ACTIVE) & (
        Q(performer__private_shows__next_bill_at__isnull=True) | Q(performer__private_shows__next_bill_at__lte=now)
    )
    rooms = (
        RoomPrivateSettings.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(due)
        .order_by(F("performer__private_shows__next_bill_at").asc(nulls_first=True))
        .values_list("performer_id", flat=True)
    )
    return rooms.first()


def _bill_room(performer_id: int, now, audit: _Audit) -> int:
    """Bill the room's due sessions (locked by id, as ``_lock_session`` would)."""
    live = Exists(Show.objects.filter(performer_id=OuterRef("performer_id"), status=Show.Status.LIVE))
    sessions = list(
        PrivateShow.objects.filter(_due(now), performer_id=performer_id)
        .select_for_update(of=("self",))
        .select_related("performer", "payer", "hold")
        .annotate(room_is_live=live)
        .order_by("pk")
    )
    ended_one = False
    for session in sessions:
        live = session.room_is_live
        if ended_one:  # ending a private ends its spies: read them again
            session = _lock_session(session.pk)
            if session.status != Status.ACTIVE:
                continue
        _bill(session, now, audit, live=live)
        ended_one = ended_one or session.status != Status.ACTIVE
    return len(sessions)


def _set_synchronous_commit(on: bool) -> bool:
    """On PostgreSQL the tick's commits don't wait for the WAL flush (a third
    of a tick's time was COMMIT, docs/benchmarks.md).  Safe here: a server
    crash can lose only the last few hundred ms of commits, whole (never part
    of one), and a lost room's tick is redone by the next under the same
    (session, period) keys; any synchronous commit that read what it wrote (a
    tip from the same wallet) flushes it first.  Events sent on commit may
    then be sent again for the redone period.  Returns whether it was set."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off" if not on else "RESET synchronous_commit")
    return True


def bill_due_periods(*, now=None) -> int:
    """The billing tick: the due sessions, room by room, each room in its own
    transaction; rooms locked by another worker (or a request being answered)
    are left to it or to the next tick.  Returns how many sessions it billed."""
    now = now or timezone.now()
    billed = 0
    asynchronous = False  # set with the first room (an idle tick stays one query), reset after the pass
    try:
        while True:
            audit = _Audit()
            with transaction.atomic():
                performer_id = _claim_due_room(now)
                if performer_id is not None:
                    asynchronous = asynchronous or _set_synchronous_commit(False)
                    billed += _bill_room(performer_id, now, audit)
                    audit.write()
            if performer_id is None:
                return billed
    finally:
        if asynchronous:
            with contextlib.suppress(DatabaseError):  # a broken connection is dropped anyway
                _set_synchronous_commit(True)


def expire_requests(*, now=None) -> int:
    """Requests not answered in time are voided."""
    now = now or timezone.now()
    due = PrivateShow.objects.filter(
        status=Status.REQUESTED, kind__in=[Kind.PRIVATE, Kind.EXCLUSIVE], expires_at__lte=now
    ).select_related("performer")
    expired = 0
    for session in due.order_by("pk"):
        audit = _Audit()
        with transaction.atomic():
            _lock_room(session.performer_id)
            locked = _lock_session(session.pk)
            if locked.status == Status.REQUESTED and locked.expires_at <= now:
                _close(locked, status=Status.EXPIRED, reason=Reason.EXPIRED, at=now, audit=audit)
                expired += 1
            audit.write()
    return expired


def fail_due_group_shows(*, now=None) -> int:
    """Group shows whose goal was not met in time: every pledge's hold is
    voided.  Running group shows left with no viewer end too."""
    now = now or timezone.now()
    failed = 0
    for group in GroupShow.objects.filter(status=GroupShow.Status.ANNOUNCED, deadline__lte=now).order_by("pk"):
        audit = _Audit()
        with transaction.atomic():
            locked = _lock_group(group)
            if locked.status == GroupShow.Status.ANNOUNCED:
                _close_group(locked, now=now, audit=audit, reason=Reason.GOAL_MISSED)
                failed += 1
            audit.write()
    empty = GroupShow.objects.filter(status=GroupShow.Status.RUNNING).exclude(pledges__status__in=PrivateShow.OPEN)
    for group in empty.order_by("pk"):
        audit = _Audit()
        with transaction.atomic():
            locked = _lock_group(group)
            if locked.status == GroupShow.Status.RUNNING and not locked.pledges.filter(status__in=PrivateShow.OPEN):
                _close_group(locked, now=now, audit=audit, reason=Reason.PAYER)
            audit.write()
    return failed


def sweep_holds(*, now=None) -> int:
    """Crash safety: no hold stays open for a session that is over or never
    started.  Expires requests, fails group shows past their deadline, ends
    sessions whose stream is gone, and voids any pending hold of a closed
    session.  Returns how many holds it voided itself."""
    now = now or timezone.now()
    expire_requests(now=now)
    fail_due_group_shows(now=now)
    bill_due_periods(now=now)
    voided = 0
    stray = PrivateShow.objects.filter(hold__status=Hold.Status.PENDING).exclude(status__in=PrivateShow.OPEN)
    for session in stray.select_related("performer").order_by("pk"):
        with transaction.atomic():
            _lock_room(session.performer_id)
            locked = _lock_session(session.pk)
            if not locked.is_open:
                _, closed = money.release_hold(hold=locked.hold)
                if closed:
                    record_audit(action="privates.hold_swept", target=locked, details={"hold": locked.hold_id})
                    voided += 1
    return voided
