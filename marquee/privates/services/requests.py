"""Room settings, private and exclusive requests (request, accept, decline,
end) and spies.  Who may act (the performer answers and ends; the payer
withdraws and ends) is checked here; whether a viewer may see or buy in this
room at all (age, region, bans) is ``access``'s question, asked by the
surfaces before they call these services."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import prices
from marquee.privates.events import emit
from marquee.privates.models import PrivateShow, RoomPrivateSettings
from marquee.privates.services.core import (
    Kind,
    PrivateError,
    Reason,
    Status,
    _Audit,
    _bill,
    _check_room,
    _close,
    _create_session,
    _finish,
    _lock_room,
    _lock_session,
    _require_live,
    _room_busy,
    end_sessions,
    payer_location,
    price_checked,
    region_blocked_sessions,
    switch_media,
)
from marquee.privates.services.guards import require_free_live_room, require_room_owner

# --- room settings ----------------------------------------------------------------


def update_room_settings(*, actor, performer, request=None, **values) -> RoomPrivateSettings:
    require_room_owner(actor, performer)
    values = price_checked(prices.check_private_settings, values)
    with transaction.atomic():
        room = _lock_room(performer.pk)
        for name, value in values.items():
            setattr(room, name, value)
        room.save()
        record_audit(action="privates.settings_changed", actor=actor, request=request, target=room, details=values)
    return room


# --- private and exclusive shows ---------------------------------------------------


def request_private(*, user, performer, kind: str = Kind.PRIVATE, now=None, request=None, location=None) -> PrivateShow:
    """A viewer asks for a private (or exclusive) show: the minimum is held at once.
    ``location`` (default: the request's) is kept for later region blocks."""
    if kind == Kind.SPY:
        return join_spy(user=user, performer=performer, now=now, request=request, location=location)
    if kind not in (Kind.PRIVATE, Kind.EXCLUSIVE):
        raise PrivateError("bad_kind", "Choose private, exclusive or spy.", 400)
    _check_room(user, performer)
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        room = _lock_room(performer.pk)
        if not room.privates_enabled or (kind == Kind.EXCLUSIVE and not room.exclusive_enabled):
            raise PrivateError("privates_off", "This room does not take private shows now.", 409)
        live = require_free_live_room(performer, busy_message="The performer is in a private or group show.")
        session = _create_session(
            audit=audit,
            performer=performer,
            payer=user,
            kind=kind,
            show=live,
            rate_tokens=room.exclusive_rate_tokens if kind == Kind.EXCLUSIVE else room.rate_tokens,
            minimum_periods=room.minimum_minutes,
            requested_at=now,
            expires_at=now + datetime.timedelta(seconds=settings.PRIVATE_REQUEST_EXPIRY_SECONDS),
            **payer_location(location, request),
        )
        audit.write(actor=user, request=request)
        emit("private.requested", performer=performer, user_ids=[user.pk], id=session.pk, kind=kind)
    return session


def _performer_session(actor, session: PrivateShow) -> PrivateShow:
    """Lock the room and the session, refusing anyone but its performer (404: we don't say it exists)."""
    if actor is None or not actor.is_authenticated or actor.pk != session.performer.user_id:
        raise PrivateError("not_found", "No such request.", 404)
    _lock_room(session.performer_id)
    return _lock_session(session.pk)


def accept(*, actor, session: PrivateShow, now=None, request=None) -> PrivateShow:
    """The performer accepts a request: the room goes private, period 1 is
    charged, other waiting requests are voided.  Accepting twice is one
    outcome; accepting an expired request expires it (409)."""
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        locked = _performer_session(actor, session)
        if locked.kind not in (Kind.PRIVATE, Kind.EXCLUSIVE):
            raise PrivateError("not_a_request", "Only private requests are accepted.", 409)
        if locked.status == Status.ACTIVE:
            return locked
        if locked.status != Status.REQUESTED:
            raise PrivateError("not_pending", f"This request is {locked.status}.", 409)
        expired = locked.expires_at <= now
        if expired:
            _close(locked, status=Status.EXPIRED, reason=Reason.EXPIRED, at=now, audit=audit)
        else:
            if _room_busy(locked.performer, except_pk=locked.pk):
                raise PrivateError("room_busy", "End the current show first.", 409)
            locked.show = _require_live(locked.performer)
            locked.status = Status.ACTIVE
            locked.started_at = now
            locked.save(update_fields=["status", "started_at", "show"])
            audit.add("privates.accepted", locked, kind=locked.kind)
            switch_media(locked, private=True)
            emit("private.accepted", performer=locked.performer, user_ids=[locked.payer_id], id=locked.pk)
            waiting = PrivateShow.objects.filter(
                performer=locked.performer, status=Status.REQUESTED, kind__in=[Kind.PRIVATE, Kind.EXCLUSIVE]
            )
            for pk in waiting.order_by("pk").values_list("pk", flat=True):
                _close(_lock_session(pk), status=Status.CANCELLED, reason=Reason.OTHER_ACCEPTED, at=now, audit=audit)
            _bill(locked, now, audit)
        audit.write(actor=actor, request=request)
    if expired:
        raise PrivateError("request_expired", "This request has expired.", 409)
    return locked


def decline(*, actor, session: PrivateShow, now=None, request=None) -> PrivateShow:
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        locked = _performer_session(actor, session)
        if locked.status == Status.DECLINED:
            return locked
        if locked.status != Status.REQUESTED or locked.kind not in (Kind.PRIVATE, Kind.EXCLUSIVE):
            raise PrivateError("not_pending", f"This request is {locked.status}.", 409)
        _close(locked, status=Status.DECLINED, reason=Reason.DECLINED, at=now, audit=audit, actor=actor)
        audit.write(actor=actor, request=request)
    return locked


def end_private(*, actor, session: PrivateShow, now=None, request=None) -> PrivateShow:
    """Either side ends a session (or withdraws / declines a request).
    Ending an ended session changes nothing."""
    now = now or timezone.now()
    if actor is None or not actor.is_authenticated or actor.pk not in (session.performer.user_id, session.payer_id):
        raise PrivateError("not_found", "No such show.", 404)
    by_performer = actor.pk == session.performer.user_id
    audit = _Audit()
    with transaction.atomic():
        _lock_room(session.performer_id)
        locked = _lock_session(session.pk)
        if not locked.is_open:
            return locked
        if locked.status == Status.REQUESTED:
            status, reason = (
                (Status.DECLINED, Reason.DECLINED) if by_performer else (Status.CANCELLED, Reason.WITHDRAWN)
            )
            _close(locked, status=status, reason=reason, at=now, audit=audit, actor=actor)
        else:
            reason = Reason.PERFORMER if by_performer else Reason.PAYER
            _finish(locked, reason=reason, at=now, now=now, audit=audit, actor=actor)
        audit.write(actor=actor, request=request)
    return locked


# --- spies ------------------------------------------------------------------------


def join_spy(*, user, performer, now=None, request=None, location=None) -> PrivateShow:
    """Watch the running private at the spy rate, billed per period from now."""
    _check_room(user, performer)
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        room = _lock_room(performer.pk)
        if not room.spies_enabled:
            raise PrivateError("spies_off", "This room does not take spies.", 409)
        parent = PrivateShow.objects.filter(
            performer=performer, status=Status.ACTIVE, kind__in=[Kind.PRIVATE, Kind.EXCLUSIVE]
        ).first()
        if parent is None:
            raise PrivateError("no_private", "There is no private show to spy on.", 409)
        if parent.kind == Kind.EXCLUSIVE:
            raise PrivateError("exclusive", "This private show is exclusive.", 409)
        session = _create_session(
            audit=audit,
            performer=performer,
            payer=user,
            kind=Kind.SPY,
            parent=parent,
            show=parent.show,
            rate_tokens=room.spy_rate_tokens,
            minimum_periods=1,
            requested_at=now,
            status=Status.ACTIVE,
            started_at=now,
            **payer_location(location, request),
        )
        _bill(session, now, audit)
        audit.write(actor=user, request=request)
        emit("private.spy_joined", performer=performer, user_ids=[user.pk], id=session.pk, parent=parent.pk)
    return session


# --- region blocks ------------------------------------------------------------------


def end_region_blocked(*, performer, now=None) -> int:
    """The performer blocked a region (by hand or travel mode): sessions of
    payers (or spies, or group pledgers) who booked from it end as
    ``region_blocked``, charged only the periods begun, the rest voided."""
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        _lock_room(performer.pk)
        ended = end_sessions(region_blocked_sessions(performer), reason=Reason.REGION_BLOCKED, now=now, audit=audit)
        audit.write()
    return ended
