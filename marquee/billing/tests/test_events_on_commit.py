"""Events leave only after commit (as Zulip's ``send_event_on_commit``): a
real service — a tip — announces itself to the room and to domain-event
subscribers when its transaction commits, and a transaction that rolls back
sends nothing and changes nothing."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction

from marquee.billing.models import Tip
from marquee.ledger import selectors as ledger
from marquee.lib import domain_events
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard(monkeypatch):
    """Domain events ``tip.sent`` as subscribers receive them."""
    monkeypatch.setattr(domain_events, "_subscribers", defaultdict(list))
    calls = []
    domain_events.subscribe("tip.sent", lambda **payload: calls.append(payload))
    return calls


def test_a_tip_is_announced_only_once_its_transaction_commits(viewer, performer, room_events, heard):
    fund(viewer, 100)
    room_events.clear()
    with transaction.atomic():
        tip(viewer, performer, 30, message="hi")
        assert room_events == []  # written, not committed: nobody hears of it yet
        assert heard == []
    assert [(room, event["type"], event["tokens"]) for room, event in room_events] == [("performer", "tip", 30)]
    assert heard == [{"user_id": viewer.pk, "performer_id": performer.pk, "tokens": 30}]


def test_a_rolled_back_tip_sends_nothing_and_changes_nothing(viewer, performer, room_events, user_events, heard):
    fund(viewer, 100)
    room_events.clear()
    user_events.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        tip(viewer, performer, 30, message="hi")
        raise RuntimeError("rolled back after the tip was written")
    assert room_events == []
    assert user_events == []
    assert heard == []
    assert Tip.objects.count() == 0
    assert ledger.wallet_balance(viewer) == 100
