"""Shared steps of every private, exclusive, spy and group session (issue 13).

Money: each session escrows its tokens in one ledger hold, placed when it is
requested (the minimum: rate × minimum periods).  Once active, every started
billing period (``PRIVATE_BILLING_SECONDS``) is posted from the hold with the
key ``privates:<session>:period:<n>``, so a retried or concurrent tick never
charges twice; the hold is kept one period ahead of what is charged, and when
the wallet cannot cover the next period the payer is warned, then the session
ends at the start of that period.  At the end the rest of the hold is voided.
Tokens move only through ``billing.money``; prices are checked in ``billing.prices``.

What an ended session costs (``periods_owed``): the viewer ending it (or
running out of tokens) pays at least the minimum; the performer ending it,
the stream dropping (up to the drop), a ban or region block, or the private a
spy watched ending: only the periods that started.

Every write: keyword-only, one transaction, audit rows written last (after
the ledger rows, as tips do, so lock order stays: room → sessions by id →
group → hold → accounts → audit chain), events sent on commit.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction

from marquee.audit.services import record_audit
from marquee.billing import money
from marquee.billing.prices import PriceError
from marquee.compliance import policy
from marquee.lib.errors import DomainError
from marquee.lib.geo import Location, location_for_request
from marquee.privates.events import emit
from marquee.privates.models import GroupShow, PrivateShow, RoomPrivateSettings
from marquee.shows import playback
from marquee.shows.models import Show

Kind, Status, Reason = PrivateShow.Kind, PrivateShow.Status, PrivateShow.EndReason

# Ended by one of these: at least the minimum is charged.  Otherwise only what started.
_MINIMUM_CHARGED = (Reason.PAYER, Reason.NO_FUNDS)


class PrivateError(DomainError):
    """A refused private-show request (nothing was held or changed)."""


def price_checked(check, *args, **kwargs):
    """Run a ``billing.prices`` check, answering its refusal as a ``PrivateError``."""
    try:
        return check(*args, **kwargs)
    except PriceError as refused:
        raise PrivateError(refused.code, refused.message, refused.status) from None


# --- time ---------------------------------------------------------------------------


def periods_started(start, at) -> int:
    """Billing periods begun between ``start`` and ``at`` (the first begins at ``start``)."""
    if start is None or at < start:
        return 0
    period = datetime.timedelta(seconds=settings.PRIVATE_BILLING_SECONDS)
    return (at - start) // period + 1


def periods_owed(session: PrivateShow, reason: str, at) -> int:
    """What a session ending at ``at`` for ``reason`` costs, in periods (never
    less than what was already charged: started periods are not refunded)."""
    until = min(at, session.stream_dropped_at) if session.stream_dropped_at else at
    owed = periods_started(session.started_at, until)
    if reason in _MINIMUM_CHARGED:
        owed = max(owed, session.minimum_periods)
    return max(owed, session.periods_charged)


# --- locks and shared steps -------------------------------------------------------


class _Audit(list):
    """Audit rows of one transaction, written last (see the module docstring)."""

    def add(self, action: str, target, **details) -> None:
        self.append((action, target, details))

    def write(self, *, actor=None, request=None) -> None:
        for action, target, details in self:
            record_audit(action=action, actor=actor, request=request, target=target, details=details)


def _lock_room(performer_id: int) -> RoomPrivateSettings:
    """Every write for a room starts here: one row lock serializes them."""
    RoomPrivateSettings.objects.get_or_create(performer_id=performer_id)
    return RoomPrivateSettings.objects.select_for_update().get(performer_id=performer_id)


def _lock_session(pk: int) -> PrivateShow:
    # of=self: the joined performer and hold rows are read, not locked (the ledger locks its hold).
    return PrivateShow.objects.select_for_update(of=("self",)).select_related("performer", "hold").get(pk=pk)


def _live_show(performer) -> Show | None:
    return Show.objects.filter(performer=performer, status=Show.Status.LIVE).first()


def _check_room(user, performer) -> None:
    if performer.user_id == user.pk:
        raise PrivateError("own_room", "You cannot book your own room.", 409)
    if not performer.is_verified or performer.is_suspended:
        raise PrivateError("not_available", "This performer cannot take private shows.", 409)


def _require_live(performer) -> Show:
    live = _live_show(performer)
    if live is None:
        raise PrivateError("room_offline", "The room is offline.", 409)
    return live


def _room_busy(performer, *, except_pk=None) -> bool:
    active = PrivateShow.objects.filter(
        performer=performer, status=Status.ACTIVE, kind__in=[Kind.PRIVATE, Kind.EXCLUSIVE]
    )
    if except_pk:
        active = active.exclude(pk=except_pk)
    open_group = GroupShow.objects.filter(
        performer=performer, status__in=[GroupShow.Status.ANNOUNCED, GroupShow.Status.RUNNING]
    )
    return active.exists() or open_group.exists()


def payer_location(location: Location | None, request) -> dict:
    """The session's record of where its payer books from (the caller's
    ``location``, else the request's address), for later region blocks."""
    if location is None:
        location = location_for_request(request) if request is not None else Location()
    return {"payer_country": location.country or "", "payer_subdivision": location.subdivision or ""}


def _create_session(*, audit: _Audit, **fields) -> PrivateShow:
    """A new session with its hold for the minimum; ``insufficient_tokens``
    (402) when the wallet's available balance is short (nothing is kept)."""
    if PrivateShow.objects.filter(
        performer=fields["performer"], payer=fields["payer"], status__in=PrivateShow.OPEN
    ).exists():
        raise PrivateError("already_open", "You already have a request or show open in this room.", 409)
    session = PrivateShow.objects.create(**fields)
    try:
        hold = money.hold_tokens(
            user=session.payer,
            tokens=session.rate_tokens * session.minimum_periods,
            idempotency_key=f"privates:{session.pk}:hold",
            source_type="privates.privateshow",
            source_id=session.pk,
        )
    except money.NotEnoughTokens:
        raise PrivateError("insufficient_tokens", "Not enough tokens for the minimum of this show.", 402) from None
    session.hold = hold
    session.save(update_fields=["hold"])
    audit.add(f"privates.{session.kind}_requested", session, tokens_held=hold.amount, rate=session.rate_tokens)
    return session


def _try_extend(session: PrivateShow, to_amount: int) -> bool:
    """Reserve up to ``to_amount`` in the hold; False when the wallet can't (nothing changed)."""
    if session.hold.amount >= to_amount:
        return True
    try:
        with transaction.atomic():  # a savepoint: the refusal must not doom the caller's transaction
            session.hold = money.extend_tokens_hold(hold=session.hold, to_tokens=to_amount)
    except money.NotEnoughTokens:
        return False
    return True


def _charge_through(session: PrivateShow, upto: int, now, audit: _Audit, *, ahead: bool = False) -> bool:
    """Post periods up to ``upto`` from the hold; False if the wallet could
    not cover one (the periods before it are posted).  ``ahead``: each post
    also extends the hold to cover the period after it when the wallet can
    (one ledger call per period, no separate extension)."""
    rate = session.rate_tokens
    charged = session.periods_charged
    for period in range(charged + 1, upto + 1):
        try:
            money.spend_held_tokens(
                hold=session.hold,
                user=session.payer,
                performer=session.performer,
                tokens=rate,
                idempotency_key=f"privates:{session.pk}:period:{period}",
                source_type="privates.privateshow",
                source_id=session.pk,
                now=now,
                memo=f"{session.kind} period {period}",
                reserve_to=max(session.minimum_periods, period + 1 if ahead else period) * rate,
            )
        except money.NotEnoughTokens:
            break  # nothing of this period was written
        session.periods_charged = period
        audit.add("privates.period_charged", session, period=period, tokens=rate)
        emit(
            "private.charged",
            performer=session.performer,
            user_ids=[session.payer_id],
            id=session.pk,
            period=period,
            tokens=rate,
        )
    if session.periods_charged != charged:
        session.next_bill_at = next_bill_at(session)
        session.save(update_fields=["periods_charged", "next_bill_at"])
    return session.periods_charged >= upto


def next_bill_at(session: PrivateShow):
    """When the worker must next look at an active session: the start of its
    next period, or the end of the drop grace once its stream dropped."""
    if session.stream_dropped_at is not None:
        return session.stream_dropped_at + datetime.timedelta(seconds=settings.PRIVATE_STREAM_DROP_GRACE_SECONDS)
    return session.started_at + session.periods_charged * datetime.timedelta(seconds=settings.PRIVATE_BILLING_SECONDS)


def switch_media(session: PrivateShow, *, private: bool) -> None:
    """On commit: the room's media folder becomes the private session's (the
    public's URLs stop at once) or, when it ends, the show's again if live."""
    performer, session_pk, show_pk = session.performer, session.pk, session.show_id

    def _switch():
        if private and show_pk:
            playback.open_show_media(playback.media_folder(show_pk, session_pk), performer.username)
            return
        playback.close_show_media(playback.media_folder(show_pk, session_pk))
        live = _live_show(performer)
        if live is not None:
            playback.open_show_media(live.pk, performer.username)

    transaction.on_commit(_switch)


def _close(session: PrivateShow, *, status: str, reason: str, at, audit: _Audit, actor=None) -> None:
    """Void the rest of the hold and close the session (any open status)."""
    if session.status == Status.ACTIVE and session.kind in (Kind.PRIVATE, Kind.EXCLUSIVE):
        switch_media(session, private=False)
    money.release_hold(hold=session.hold)
    session.status = status
    session.end_reason = reason
    session.ended_at = at
    session.ended_by = actor if actor is not None and actor.is_authenticated else None
    session.save(update_fields=["status", "end_reason", "ended_at", "ended_by"])
    audit.add(f"privates.{status}", session, reason=reason, periods=session.periods_charged)
    emit(
        f"private.{status}",
        performer=session.performer,
        user_ids=[session.payer_id],
        id=session.pk,
        kind=session.kind,
        reason=reason,
        periods=session.periods_charged,
    )


def _finish(session: PrivateShow, *, reason: str, at, now, audit: _Audit, actor=None) -> None:
    """End an active session: charge what ``periods_owed`` says (as far as
    the wallet covers it), void the rest, end its spies."""
    _charge_through(session, periods_owed(session, reason, at), now, audit)
    _close(session, status=Status.ENDED, reason=reason, at=at, audit=audit, actor=actor)
    for spy_pk in session.spies.filter(status__in=PrivateShow.OPEN).order_by("pk").values_list("pk", flat=True):
        spy = _lock_session(spy_pk)
        if spy.is_open:
            _finish(spy, reason=Reason.PARENT_ENDED, at=at, now=now, audit=audit)


def end_sessions(pks, *, reason: str, now, audit: _Audit) -> int:
    """End these sessions (locked here, in pk order) for a viewer who may no
    longer be there (banned, region-blocked): running ones are charged only
    the periods begun, requests are cancelled; every hold's rest is voided."""
    ended = 0
    for pk in sorted(pks):
        session = _lock_session(pk)
        if session.status == Status.ACTIVE:
            _finish(session, reason=reason, at=now, now=now, audit=audit)
        elif session.status == Status.REQUESTED:
            _close(session, status=Status.CANCELLED, reason=reason, at=now, audit=audit)
        else:
            continue  # ended meanwhile (a spy whose private this loop just ended)
        ended += 1
    return ended


def region_blocked_sessions(performer) -> list[int]:
    """Open sessions in the room whose payer booked from a region the
    performer blocks now (the rule is ``compliance.policy``'s)."""
    open_sessions = PrivateShow.objects.filter(performer=performer, status__in=PrivateShow.OPEN).exclude(
        payer_country=""
    )
    return [s.pk for s in open_sessions.order_by("pk") if policy.is_region_blocked(performer, s.payer_location)]


def _bill(session: PrivateShow, now, audit: _Audit, *, live: bool | None = None) -> None:
    """One tick of an active session: end it if its stream stayed down past
    the grace; else post the periods begun (not those begun while the stream
    was down), keep the hold one period ahead, warn or end when tokens run out.
    ``live``: whether the room's broadcast is live, when the caller already knows."""
    if live is None:
        live = _live_show(session.performer) is not None
    if session.stream_dropped_at is None and not live:
        # The broadcast ended without a drop reaching us (a lost hook, a crash): count it as a drop.
        ended = session.show.ended_at if session.show_id else None
        session.stream_dropped_at = min(now, ended or now)
        session.save(update_fields=["stream_dropped_at"])
    dropped = session.stream_dropped_at
    if dropped and now - dropped >= datetime.timedelta(seconds=settings.PRIVATE_STREAM_DROP_GRACE_SECONDS):
        _finish(session, reason=Reason.STREAM_DROPPED, at=dropped, now=now, audit=audit)
        return
    due = periods_started(session.started_at, dropped or now)
    if not _charge_through(session, due, now, audit, ahead=True):
        _finish(session, reason=Reason.NO_FUNDS, at=now, now=now, audit=audit)
        return
    ahead = max(session.minimum_periods, session.periods_charged + 1)
    changed = []
    if not _try_extend(session, ahead * session.rate_tokens) and session.warned_period != ahead:
        session.warned_period = ahead
        changed.append("warned_period")
        emit(
            "private.low_funds",
            performer=session.performer,
            user_ids=[session.payer_id],
            id=session.pk,
            ends_after_period=session.periods_charged,
            period_seconds=settings.PRIVATE_BILLING_SECONDS,
        )
    if session.next_bill_at != (due_next := next_bill_at(session)):
        session.next_bill_at = due_next
        changed.append("next_bill_at")
    if changed:
        session.save(update_fields=changed)
