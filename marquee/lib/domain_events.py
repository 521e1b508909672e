"""Domain events: a lower layer says what happened without knowing who listens.

A service calls ``send(name, **payload)`` inside its transaction; the
subscribers run after it commits (never for a rollback), each one on its
own: a failing subscriber is logged and neither fails the request nor stops
the others.  Higher layers subscribe in their ``AppConfig.ready`` (e.g.
recommendations records interactions), so billing, chat, shows and
performers never import them.

Names and payloads (keyword arguments, plain ids and numbers):

* ``performer.followed``: user_id, performer_id
* ``show.watched``: user_id, performer_id, seconds
* ``show.went_live``: performer_id, show_id (after its media folder opened)
* ``show.stream_lost``: performer_id, at (the media server's last sign of life)
* ``chat.posted``: user_id, performer_id
* ``chat.banned``: user_id, performer_id (None: site-wide)
* ``performer.region_blocked``: performer_id, region (by hand or travel mode)
* ``purchase.completed``: user_id, performer_id (or None), product
* ``subscription.extended``: user_id, performer_id
* ``tip.sent``: user_id, performer_id, tokens
* ``show.started``: show_id, performer_id (go-live notifications, schedule.golive)
* ``show.ended``: show_id
* ``age_verification.decided``: user_id, verification_id, approved
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(name: str, handler: Callable[..., None]) -> None:
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def send(name: str, **payload) -> None:
    """Deliver ``payload`` to the subscribers of ``name`` once the current
    transaction commits (at once outside a transaction)."""
    for handler in list(_subscribers.get(name, ())):
        transaction.on_commit(lambda handler=handler: handler(**payload), robust=True)
