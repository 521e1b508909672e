from __future__ import annotations

from collections import defaultdict

import pytest
from django.db import transaction

from marquee.lib import domain_events


@pytest.fixture
def heard(monkeypatch):
    monkeypatch.setattr(domain_events, "_subscribers", defaultdict(list))
    calls = []
    domain_events.subscribe("thing.happened", lambda **payload: calls.append(payload))
    return calls


@pytest.mark.django_db(transaction=True)
def test_subscribers_hear_an_event_only_after_commit(heard):
    with transaction.atomic():
        domain_events.send("thing.happened", user_id=1, tokens=5)
        assert heard == []  # still inside the transaction
    assert heard == [{"user_id": 1, "tokens": 5}]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(heard):
    with pytest.raises(RuntimeError), transaction.atomic():
        domain_events.send("thing.happened", user_id=1)
        raise RuntimeError("rolled back")
    assert heard == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_neither_fails_the_sender_nor_stops_the_others(heard):
    def broken(**payload):
        raise ValueError("subscriber bug")

    domain_events._subscribers["thing.happened"].insert(0, broken)
    with transaction.atomic():
        domain_events.send("thing.happened", user_id=2)
    assert heard == [{"user_id": 2}]
