"""Events of private, spy and group shows, for the surfaces that will push
them to sockets (next session).  Sent only after the transaction commits, so
nobody hears of something that was rolled back; the app imports no chat code.

Receivers: ``private_show_event.connect(fn)``; ``fn(sender, event, **kwargs)``
gets ``event = {"type": ..., "performer_id": ..., "user_ids": [...], ...}``:
``user_ids`` are the people it concerns (payer, performer's user)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

private_show_event = Signal()


def emit(event_type: str, *, performer, user_ids, **payload) -> None:
    event = {
        "type": event_type,
        "performer_id": performer.pk,
        "user_ids": sorted({performer.user_id, *user_ids}),
        **payload,
    }
    transaction.on_commit(lambda: private_show_event.send(sender=None, event=event))
