"""Group shows: announced with a per-minute price and a goal; pledges hold one
period; the show starts when the goal is met, else every hold is voided."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import prices
from marquee.privates.events import emit
from marquee.privates.models import GroupShow, PrivateShow
from marquee.privates.selectors import group_media_session
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
    _live_show,
    _lock_room,
    _lock_session,
    payer_location,
    price_checked,
    switch_media,
)
from marquee.privates.services.guards import require_free_live_room, require_room_owner

# --- group shows --------------------------------------------------------------------


def announce_group_show(
    *, actor, performer, rate_tokens: int, goal_viewers: int, window_minutes: int, now=None, request=None
) -> GroupShow:
    require_room_owner(actor, performer)
    price_checked(
        prices.check_group_show, rate_tokens=rate_tokens, goal_viewers=goal_viewers, window_minutes=window_minutes
    )
    now = now or timezone.now()
    with transaction.atomic():
        room = _lock_room(performer.pk)
        if not room.group_shows_enabled:
            raise PrivateError("groups_off", "Group shows are off in this room.", 409)
        require_free_live_room(performer, busy_message="End the current show first.")
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


def join_group_show(*, user, group: GroupShow, now=None, request=None, location=None) -> PrivateShow:
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
            **payer_location(location, request),
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
    first = None
    for pk in group.pledges.filter(status=Status.REQUESTED).order_by("pk").values_list("pk", flat=True):
        pledge = _lock_session(pk)
        pledge.status = Status.ACTIVE
        pledge.started_at = now
        pledge.save(update_fields=["status", "started_at"])
        first = first or pledge
        _bill(pledge, now, audit)
    # The room goes private as for a private show: public playback stops (the
    # first pledge's folder replaces the show's; see selectors.group_media_session).
    switch_media(first, private=True)


def end_group_show(*, actor, group: GroupShow, now=None, request=None) -> GroupShow:
    """The performer ends (or calls off) the group show: pledges pay only what started."""
    require_room_owner(actor, group.performer)
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
    media = group_media_session(group) if running else None
    if media is not None:
        switch_media(_lock_session(media), private=False)  # the public sees the show again
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
