from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from marquee.accounts.models import User
from marquee.audit.services import record_audit
from marquee.performers.models import Performer
from marquee.recommendations.models import Interaction, ViewerBlock


@transaction.atomic
def store_interactions(*, events: list[tuple]) -> int:
    """Writes buffered ``(user_id, performer_id, kind, amount, unix_time)``
    events; events about deleted users or performers are dropped."""
    if not events:
        return 0
    user_ids = set(User.objects.filter(pk__in={e[0] for e in events}).values_list("pk", flat=True))
    performer_ids = set(Performer.objects.filter(pk__in={e[1] for e in events}).values_list("pk", flat=True))
    rows = [
        Interaction(
            user_id=user_id,
            performer_id=performer_id,
            kind=kind,
            amount=amount,
            created_at=datetime.datetime.fromtimestamp(at, tz=datetime.UTC),
        )
        for user_id, performer_id, kind, amount, at in events
        if user_id in user_ids and performer_id in performer_ids and kind in Interaction.Kind.values and amount > 0
    ]
    Interaction.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def hide_performer(*, user, performer: Performer, request=None) -> bool:
    """Returns True when newly hidden."""
    try:
        with transaction.atomic():
            ViewerBlock.objects.create(user=user, performer=performer)
    except IntegrityError:
        return False
    record_audit(action="recommendations.performer_hidden", actor=user, request=request, target=performer)
    return True


@transaction.atomic
def unhide_performer(*, user, performer: Performer, request=None) -> bool:
    deleted, _ = ViewerBlock.objects.filter(user=user, performer=performer).delete()
    if deleted:
        record_audit(action="recommendations.performer_unhidden", actor=user, request=request, target=performer)
    return bool(deleted)
