from __future__ import annotations

from django.db import IntegrityError, transaction

from marquee.compliance.services import record_audit
from marquee.performers.models import Follow, Performer
from marquee.recommendations import tracking


@transaction.atomic
def follow_performer(*, user, performer: Performer) -> bool:
    """Returns True when a new follow was created."""
    if user.pk == performer.user_id:
        return False
    try:
        with transaction.atomic():
            Follow.objects.create(user=user, performer=performer)
    except IntegrityError:
        return False
    tracking.record(user_id=user.pk, performer_id=performer.pk, kind="follow")
    return True


@transaction.atomic
def unfollow_performer(*, user, performer: Performer) -> bool:
    deleted, _ = Follow.objects.filter(user=user, performer=performer).delete()
    return bool(deleted)


@transaction.atomic
def apply_as_performer(*, user, display_name: str, request=None) -> Performer:
    performer, created = Performer.objects.get_or_create(user=user, defaults={"display_name": display_name})
    if created:
        record_audit(action="performer.applied", actor=user, request=request, target=performer)
    return performer
