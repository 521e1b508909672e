"""Round trips of the hot money paths (issue 14): a tip's transaction and the
wallet read.  Each statement here is a round trip to the database under load,
so these pin the count and name the reads that must not come back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marquee.billing.models import Tip
from marquee.shows.models import Show
from tests.factories import PerformerFactory
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def test_a_tip_into_a_live_room_reads_neither_the_key_nor_the_show_on_its_own(viewer):
    """The idempotency key is checked by the transfer's insert (PostgreSQL)
    and the live show is chosen inside the tip row's insert: no separate
    SELECT for either, and the tip still counts towards the show's goal."""
    performer = PerformerFactory(tip_goal_tokens=100, tip_goal_label="Lamp")
    show = Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())
    fund(viewer, 100)
    tip(viewer, performer, 1)
    sql = statements(lambda: tip(viewer, performer, 2))
    # Savepoint + release (the test's transaction), the account lookup (cached
    # in production after commit), transfer and tip (one statement on
    # PostgreSQL), audit row (claim + hash + insert in one function call on
    # PostgreSQL; claim and insert on SQLite), balances and goal (one
    # statement on PostgreSQL; five updates, entries and the goal upsert on SQLite).
    assert len(sql) <= (6 if connection.vendor == "postgresql" else 15), sql
    assert not [s for s in sql if s.startswith("SELECT") and '"shows_show"' in s.split("WHERE")[0]]
    if connection.vendor == "postgresql":
        assert not [s for s in sql if s.startswith("SELECT") and '"ledger_transfer"' in s.split("WHERE")[0]]
        assert [s for s in sql if "audit" in s] == [next(s for s in sql if "audit_append(" in s)]
        assert [s for s in sql if "billing_tip (" in s] == [next(s for s in sql if "INSERT INTO ledger_transfer" in s)]
        assert [s for s in sql if "billing_showtiptotal" in s] == [
            next(s for s in sql if "ledger_apply_transfer(" in s)
        ]
    assert Tip.objects.filter(show=show).count() == 2
    assert show.tip_total.tokens == 3


def test_a_refused_tip_moves_neither_the_balances_nor_the_goal(viewer):
    """The goal upsert rides on the balance statement (PostgreSQL): a debit
    the wallet can't pay must leave the show's total as it was."""
    from marquee.billing.errors import BillingError
    from marquee.ledger.models import Entry

    performer = PerformerFactory(tip_goal_tokens=100, tip_goal_label="Lamp")
    show = Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())
    fund(viewer, 5)
    tip(viewer, performer, 3)
    entries = Entry.objects.count()
    with pytest.raises(BillingError) as refused:
        tip(viewer, performer, 3)
    assert refused.value.code == "insufficient_tokens"
    show.tip_total.refresh_from_db()
    assert show.tip_total.tokens == 3
    assert Tip.objects.filter(show=show).count() == 1
    assert Entry.objects.count() == entries
    tip(viewer, performer, 2)  # what the wallet still holds goes through
    show.tip_total.refresh_from_db()
    assert show.tip_total.tokens == 5


def test_a_tip_with_no_live_show_counts_towards_no_goal(viewer):
    performer = PerformerFactory(tip_goal_tokens=100, tip_goal_label="Lamp")
    Show.objects.create(performer=performer, title="Over", status=Show.Status.ENDED, started_at=timezone.now())
    fund(viewer, 100)
    sent = tip(viewer, performer, 2)
    assert sent.show_id is None
    assert Tip.objects.get(pk=sent.pk).show_id is None


def test_a_repeated_tip_key_moves_nothing_twice(viewer):
    performer = PerformerFactory()
    fund(viewer, 100)
    first = tip(viewer, performer, 5, key="same")
    again = tip(viewer, performer, 5, key="same")
    assert again.pk == first.pk
    assert Tip.objects.count() == 1


def test_the_wallet_api_reads_the_wallet_row_once(client, viewer):
    fund(viewer, 100)
    client.force_login(viewer)
    sql = statements(lambda: client.get("/api/v1/wallet/"))
    wallet_reads = [s for s in sql if s.startswith("SELECT") and 'FROM "ledger_account"' in s]
    assert len(wallet_reads) == 1, wallet_reads
    body = client.get("/api/v1/wallet/").json()
    assert (body["balance_tokens"], body["held_tokens"], body["available_tokens"]) == (100, 0, 100)
