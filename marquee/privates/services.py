"""Writes of private, exclusive, spy and group shows (issue 13, domain core).

Money: each session escrows its tokens in one ledger hold, placed when it is
requested (the minimum: rate × minimum periods).  Once active, every started
billing period (``PRIVATE_BILLING_SECONDS``) is posted from the hold with the
key ``privates:<session>:period:<n>``, so a retried or concurrent tick never
charges twice; the hold is kept one period ahead of what is charged, and when
the wallet cannot cover the next period the payer is warned, then the session
ends at the start of that period.  At the end the rest of the hold is voided.

What an ended session costs (``periods_owed``): the viewer ending it (or
running out of tokens) pays at least the minimum; the performer ending it,
the stream dropping (up to the drop), a ban or region block, or the private a
spy watched ending: only the periods that started.

Who may act (the performer answers and ends; the payer withdraws and ends)
is checked here; whether a viewer may see or buy in this room at all (age,
region, bans) is the entitlement module's question, asked by the surfaces
before they call these services.

Every write: keyword-only, one transaction, audit rows written last (after
the ledger rows, as tips do, so lock order stays: room → sessions by id →
group → hold → accounts → audit chain), events sent on commit.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing.prices import split
from marquee.ledger.holds import extend_hold, place_hold, post_from_hold, void_hold
from marquee.ledger.models import AccountKind, Hold, TransferKind
from marquee.ledger.services import InsufficientFunds, Movement, performer_earnings, platform, wallet
from marquee.lib.errors import DomainError
from marquee.privates.events import emit
from marquee.privates.models import GroupShow, PrivateShow, RoomPrivateSettings
from marquee.shows.models import Show

Kind, Status, Reason = PrivateShow.Kind, PrivateShow.Status, PrivateShow.EndReason

# Ended by one of these: at least the minimum is charged.  Otherwise only what started.
_MINIMUM_CHARGED = (Reason.PAYER, Reason.NO_FUNDS)


class PrivateError(DomainError):
    """A refused private-show request (nothing was held or changed)."""


# --- prices and time -------------------------------------------------------------


def _int_in(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_room_settings(values: dict) -> dict:
    """The platform's limits for a room's private settings, in one place
    (to be routed to the platform's prices module).  Returns the cleaned values."""
    low, high = settings.PRIVATE_RATE_MIN_TOKENS, settings.PRIVATE_RATE_MAX_TOKENS
    allowed = {f.name for f in RoomPrivateSettings._meta.concrete_fields} - {"id", "performer", "updated_at"}
    unknown = set(values) - allowed
    if unknown:
        raise PrivateError("bad_field", f"Unknown setting: {sorted(unknown)[0]}.", 400)
    for name in ("rate_tokens", "exclusive_rate_tokens", "spy_rate_tokens"):
        if name in values and not _int_in(values[name], low, high):
            raise PrivateError("bad_price", f"Rates are {low} to {high} tokens per minute.", 400)
    top = settings.PRIVATE_MINIMUM_MINUTES_MAX
    if "minimum_minutes" in values and not _int_in(values["minimum_minutes"], 1, top):
        raise PrivateError("bad_minimum", f"The minimum is 1 to {top} minutes.", 400)
    for name in ("privates_enabled", "exclusive_enabled", "spies_enabled", "group_shows_enabled"):
        if name in values and not isinstance(values[name], bool):
            raise PrivateError("bad_field", f"{name} is true or false.", 400)
    return values


def check_group_show(*, rate_tokens, goal_viewers, window_minutes) -> None:
    low, high = settings.PRIVATE_RATE_MIN_TOKENS, settings.PRIVATE_RATE_MAX_TOKENS
    if not _int_in(rate_tokens, low, high):
        raise PrivateError("bad_price", f"Rates are {low} to {high} tokens per minute.", 400)
    if not _int_in(goal_viewers, 2, settings.GROUP_SHOW_MAX_GOAL):
        raise PrivateError("bad_goal", f"The goal is 2 to {settings.GROUP_SHOW_MAX_GOAL} viewers.", 400)
    if not _int_in(window_minutes, 1, settings.GROUP_SHOW_MAX_WINDOW_MINUTES):
        raise PrivateError(
            "bad_window", f"The join window is 1 to {settings.GROUP_SHOW_MAX_WINDOW_MINUTES} minutes.", 400
        )


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


def _create_session(*, audit: _Audit, **fields) -> PrivateShow:
    """A new session with its hold for the minimum; ``insufficient_tokens``
    (402) when the wallet's available balance is short (nothing is kept)."""
    if PrivateShow.objects.filter(
        performer=fields["performer"], payer=fields["payer"], status__in=PrivateShow.OPEN
    ).exists():
        raise PrivateError("already_open", "You already have a request or show open in this room.", 409)
    session = PrivateShow.objects.create(**fields)
    try:
        hold, _ = place_hold(
            account=wallet(session.payer),
            amount=session.rate_tokens * session.minimum_periods,
            idempotency_key=f"privates:{session.pk}:hold",
            source_type="privates.privateshow",
            source_id=session.pk,
        )
    except InsufficientFunds:
        raise PrivateError("insufficient_tokens", "Not enough tokens for the minimum of this show.", 402)
    session.hold = hold
    session.save(update_fields=["hold"])
    audit.add(f"privates.{session.kind}_requested", session, tokens_held=hold.amount, rate=session.rate_tokens)
    return session


def _period_credits(session: PrivateShow, tokens: int) -> tuple[list[Movement], int, int]:
    """Where a period's tokens go: as a tip's (token value to the performer's
    pending earnings and the platform fee).  To be routed to the money module."""
    value = tokens * settings.TOKEN_VALUE_CENTS
    share, fee = split(value)
    shard = session.payer_id
    credits = [
        Movement(platform(AccountKind.TOKEN_SUPPLY, shard=shard), tokens),
        Movement(platform(AccountKind.TOKEN_FLOAT, shard=shard), -value),
        Movement(performer_earnings(session.performer, AccountKind.PERFORMER_PENDING), share),
        Movement(platform(AccountKind.PLATFORM_FEES, shard=shard), fee),
    ]
    return credits, value, share


def _try_extend(session: PrivateShow, to_amount: int) -> bool:
    """Reserve up to ``to_amount`` in the hold; False when the wallet can't (nothing changed)."""
    if session.hold.amount >= to_amount:
        return True
    try:
        with transaction.atomic():  # a savepoint: the refusal must not doom the caller's transaction
            session.hold = extend_hold(hold=session.hold, to_amount=to_amount)
    except InsufficientFunds:
        return False
    return True


def _charge_through(session: PrivateShow, upto: int, now, audit: _Audit) -> bool:
    """Post periods up to ``upto`` from the hold; False if the wallet could
    not cover one (the periods before it are posted)."""
    rate = session.rate_tokens
    for period in range(session.periods_charged + 1, upto + 1):
        if not _try_extend(session, period * rate):
            return False
        credits, value, share = _period_credits(session, rate)
        post_from_hold(
            hold=session.hold,
            amount=rate,
            idempotency_key=f"privates:{session.pk}:period:{period}",
            credits=credits,
            kind=TransferKind.PRIVATE,
            user=session.payer,
            performer=session.performer,
            source_type="privates.privateshow",
            source_id=session.pk,
            gross_cents=value,
            performer_cents=share,
            # Earnings stay pending as long as a tip's (billing's EARNINGS_HOLD_DAYS).
            available_at=now + datetime.timedelta(days=settings.EARNINGS_HOLD_DAYS),
            memo=f"{session.kind} period {period}",
        )
        session.periods_charged = period
        session.save(update_fields=["periods_charged"])
        audit.add("privates.period_charged", session, period=period, tokens=rate)
    return True


def _close(session: PrivateShow, *, status: str, reason: str, at, audit: _Audit, actor=None) -> None:
    """Void the rest of the hold and close the session (any open status)."""
    void_hold(hold=session.hold)
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


def _bill(session: PrivateShow, now, audit: _Audit) -> None:
    """One tick of an active session: end it if its stream stayed down past
    the grace; else post the periods begun (not those begun while the stream
    was down), keep the hold one period ahead, warn or end when tokens run out."""
    if session.stream_dropped_at is None and _live_show(session.performer) is None:
        # The broadcast ended without a drop reaching us (a lost hook, a crash): count it as a drop.
        ended = session.show.ended_at if session.show_id else None
        session.stream_dropped_at = min(now, ended or now)
        session.save(update_fields=["stream_dropped_at"])
    dropped = session.stream_dropped_at
    if dropped and now - dropped >= datetime.timedelta(seconds=settings.PRIVATE_STREAM_DROP_GRACE_SECONDS):
        _finish(session, reason=Reason.STREAM_DROPPED, at=dropped, now=now, audit=audit)
        return
    due = periods_started(session.started_at, dropped or now)
    if not _charge_through(session, due, now, audit):
        _finish(session, reason=Reason.NO_FUNDS, at=now, now=now, audit=audit)
        return
    ahead = max(session.minimum_periods, session.periods_charged + 1)
    if not _try_extend(session, ahead * session.rate_tokens) and session.warned_period != ahead:
        session.warned_period = ahead
        session.save(update_fields=["warned_period"])
        emit(
            "private.low_funds",
            performer=session.performer,
            user_ids=[session.payer_id],
            id=session.pk,
            ends_after_period=session.periods_charged,
            period_seconds=settings.PRIVATE_BILLING_SECONDS,
        )


# --- room settings ----------------------------------------------------------------


def update_room_settings(*, actor, performer, request=None, **values) -> RoomPrivateSettings:
    if actor is None or actor.pk != performer.user_id:
        raise PrivateError("not_found", "This room does not exist.", 404)
    values = check_room_settings(values)
    with transaction.atomic():
        room = _lock_room(performer.pk)
        for name, value in values.items():
            setattr(room, name, value)
        room.save()
        record_audit(action="privates.settings_changed", actor=actor, request=request, target=room, details=values)
    return room


# --- private and exclusive shows ---------------------------------------------------


def request_private(*, user, performer, kind: str = Kind.PRIVATE, now=None, request=None) -> PrivateShow:
    """A viewer asks for a private (or exclusive) show: the minimum is held at once."""
    if kind == Kind.SPY:
        return join_spy(user=user, performer=performer, now=now, request=request)
    if kind not in (Kind.PRIVATE, Kind.EXCLUSIVE):
        raise PrivateError("bad_kind", "Choose private, exclusive or spy.", 400)
    _check_room(user, performer)
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        room = _lock_room(performer.pk)
        if not room.privates_enabled or (kind == Kind.EXCLUSIVE and not room.exclusive_enabled):
            raise PrivateError("privates_off", "This room does not take private shows now.", 409)
        live = _require_live(performer)
        if _room_busy(performer):
            raise PrivateError("room_busy", "The performer is in a private or group show.", 409)
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


def join_spy(*, user, performer, now=None, request=None) -> PrivateShow:
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
        )
        _bill(session, now, audit)
        audit.write(actor=user, request=request)
        emit("private.spy_joined", performer=performer, user_ids=[user.pk], id=session.pk, parent=parent.pk)
    return session


# --- group shows --------------------------------------------------------------------


def announce_group_show(
    *, actor, performer, rate_tokens: int, goal_viewers: int, window_minutes: int, now=None, request=None
) -> GroupShow:
    if actor is None or actor.pk != performer.user_id:
        raise PrivateError("not_found", "This room does not exist.", 404)
    check_group_show(rate_tokens=rate_tokens, goal_viewers=goal_viewers, window_minutes=window_minutes)
    now = now or timezone.now()
    with transaction.atomic():
        room = _lock_room(performer.pk)
        if not room.group_shows_enabled:
            raise PrivateError("groups_off", "Group shows are off in this room.", 409)
        _require_live(performer)
        if _room_busy(performer):
            raise PrivateError("room_busy", "End the current show first.", 409)
        group = GroupShow.objects.create(
            performer=performer,
            rate_tokens=rate_tokens,
            goal_viewers=goal_viewers,
            deadline=now + datetime.timedelta(minutes=window_minutes),
            created_at=now,
        )
        record_audit(action="privates.group_announced", actor=actor, request=request, target=group)
        emit("group.announced", performer=performer, user_ids=[], id=group.pk, goal=goal_viewers, rate=rate_tokens)
    return group


def _lock_group(group: GroupShow) -> GroupShow:
    _lock_room(group.performer_id)
    return GroupShow.objects.select_for_update(of=("self",)).select_related("performer").get(pk=group.pk)


def join_group_show(*, user, group: GroupShow, now=None, request=None) -> PrivateShow:
    """Pledge to a group show: one period is held now; the show starts when the goal is met."""
    _check_room(user, group.performer)
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        group = _lock_group(group)
        if group.status != GroupShow.Status.ANNOUNCED or group.deadline <= now:
            raise PrivateError("group_closed", "This group show takes no more viewers.", 409)
        pledge = _create_session(
            audit=audit,
            performer=group.performer,
            payer=user,
            kind=Kind.GROUP,
            group=group,
            show=_live_show(group.performer),
            rate_tokens=group.rate_tokens,
            minimum_periods=1,
            requested_at=now,
            expires_at=group.deadline,
        )
        if group.pledges.filter(status=Status.REQUESTED).count() >= group.goal_viewers:
            _start_group(group, now, audit)
        audit.write(actor=user, request=request)
    pledge.refresh_from_db()
    return pledge


def _start_group(group: GroupShow, now, audit: _Audit) -> None:
    group.status = GroupShow.Status.RUNNING
    group.started_at = now
    group.save(update_fields=["status", "started_at"])
    audit.add("privates.group_started", group)
    emit("group.started", performer=group.performer, user_ids=[], id=group.pk)
    for pk in group.pledges.filter(status=Status.REQUESTED).order_by("pk").values_list("pk", flat=True):
        pledge = _lock_session(pk)
        pledge.status = Status.ACTIVE
        pledge.started_at = now
        pledge.save(update_fields=["status", "started_at"])
        _bill(pledge, now, audit)


def end_group_show(*, actor, group: GroupShow, now=None, request=None) -> GroupShow:
    """The performer ends (or calls off) the group show: pledges pay only what started."""
    if actor is None or actor.pk != group.performer.user_id:
        raise PrivateError("not_found", "This room does not exist.", 404)
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        group = _lock_group(group)
        if group.status in (GroupShow.Status.ENDED, GroupShow.Status.FAILED):
            return group
        _close_group(group, now=now, audit=audit, reason=Reason.PERFORMER, actor=actor)
        audit.write(actor=actor, request=request)
    return group


def _close_group(group: GroupShow, *, now, audit: _Audit, reason: str, actor=None) -> None:
    running = group.status == GroupShow.Status.RUNNING
    for pk in group.pledges.filter(status__in=PrivateShow.OPEN).order_by("pk").values_list("pk", flat=True):
        pledge = _lock_session(pk)
        if pledge.status == Status.ACTIVE:
            _finish(pledge, reason=reason, at=now, now=now, audit=audit, actor=actor)
        else:
            _close(pledge, status=Status.CANCELLED, reason=reason, at=now, audit=audit, actor=actor)
    group.status = GroupShow.Status.ENDED if running else GroupShow.Status.FAILED
    group.ended_at = now
    group.save(update_fields=["status", "ended_at"])
    audit.add(f"privates.group_{group.status}", group, reason=reason)
    emit(f"group.{group.status}", performer=group.performer, user_ids=[], id=group.pk, reason=reason)


# --- media hooks, moderation ---------------------------------------------------------


def stream_dropped(*, performer, at=None) -> int:
    """The performer's stream went down (media hook): sessions bill no period
    begun after ``at`` and end once it stays down past the grace."""
    at = at or timezone.now()
    with transaction.atomic():
        _lock_room(performer.pk)
        return PrivateShow.objects.filter(
            performer=performer, status=Status.ACTIVE, stream_dropped_at__isnull=True
        ).update(stream_dropped_at=at)


def stream_resumed(*, performer, now=None) -> int:
    """Back within the grace: the sessions go on (the time down counts as elapsed)."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=settings.PRIVATE_STREAM_DROP_GRACE_SECONDS)
    with transaction.atomic():
        _lock_room(performer.pk)
        return PrivateShow.objects.filter(
            performer=performer, status=Status.ACTIVE, stream_dropped_at__gt=now - grace
        ).update(stream_dropped_at=None)


def payer_blocked(*, performer, user, now=None, actor=None) -> int:
    """A viewer was banned from the room or is now region-blocked: their
    sessions end, charged only for the periods begun."""
    now = now or timezone.now()
    audit = _Audit()
    with transaction.atomic():
        _lock_room(performer.pk)
        open_sessions = PrivateShow.objects.filter(performer=performer, payer=user, status__in=PrivateShow.OPEN)
        pks = list(open_sessions.order_by("pk").values_list("pk", flat=True))
        for pk in pks:
            session = _lock_session(pk)
            if session.status == Status.ACTIVE:
                _finish(session, reason=Reason.BLOCKED, at=now, now=now, audit=audit)
            elif session.status == Status.REQUESTED:
                _close(session, status=Status.CANCELLED, reason=Reason.BLOCKED, at=now, audit=audit)
        audit.write(actor=actor)
    return len(pks)


# --- the worker: ticks and sweeps ------------------------------------------------------


def bill_due_periods(*, now=None) -> int:
    """The billing tick: every active session in its own transaction (a crash
    loses at most that session's tick, which the next one redoes)."""
    now = now or timezone.now()
    pks = list(PrivateShow.objects.filter(status=Status.ACTIVE).order_by("pk").values_list("pk", "performer_id"))
    for pk, performer_id in pks:
        audit = _Audit()
        with transaction.atomic():
            _lock_room(performer_id)
            session = _lock_session(pk)
            if session.status == Status.ACTIVE:
                _bill(session, now, audit)
            audit.write()
    return len(pks)


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
                _, closed = void_hold(hold=locked.hold)
                if closed:
                    record_audit(action="privates.hold_swept", target=locked, details={"hold": locked.hold_id})
                    voided += 1
    return voided
