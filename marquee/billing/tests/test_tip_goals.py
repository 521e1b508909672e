"""The tip goal's counter row: equal to the SUM it replaced after any history
of tips and reversals, and a tip's cost does not grow with the show's tips."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marquee.billing import money
from marquee.billing.models import ShowTipTotal, Tip
from marquee.billing.selectors import tip_goal_progress
from marquee.ledger.models import TransferKind
from marquee.shows.models import Show
from tests.factories import PerformerFactory, UserFactory
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db

operations = st.lists(
    st.one_of(
        st.tuples(st.just("tip"), st.integers(0, 1), st.integers(1, 40)),
        st.tuples(
            st.just("refund"), st.integers(0, 30), st.sampled_from([TransferKind.REFUND, TransferKind.CHARGEBACK])
        ),
        st.tuples(st.just("go_live"), st.just(0), st.just(0)),
        st.tuples(st.just("end_show"), st.just(0), st.just(0)),
    ),
    max_size=30,
)


class Rollback(Exception):
    pass


@pytest.fixture
def room(db):
    performer = PerformerFactory(tip_goal_tokens=100, tip_goal_label="Lamp")
    viewers = [UserFactory() for _ in range(2)]
    for viewer in viewers:
        fund(viewer, 1000)
    return performer, viewers


def summed(show) -> int:
    """The old rule, computed from the tips themselves: this show's tips
    (sent while it was live), less every reversed one."""
    rows = Tip.objects.filter(show=show).exclude(
        transfer__followups__kind__in=[TransferKind.REFUND, TransferKind.CHARGEBACK]
    )
    return rows.aggregate(total=Sum("tokens"))["total"] or 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_counter_equals_the_sum_after_random_tips_and_reversals(room, ops):
    performer, viewers = room
    try:
        with transaction.atomic():
            live, shows, sent = None, [], []
            expected: dict[int, int] = {}  # show id -> tokens, kept by this model
            for op, a, b in ops:
                if op == "go_live" and live is None:
                    live = Show.objects.create(
                        performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now()
                    )
                    shows.append(live)
                    expected[live.pk] = 0
                elif op == "end_show" and live is not None:
                    Show.objects.filter(pk=live.pk).update(status=Show.Status.ENDED, ended_at=timezone.now())
                    live = None
                elif op == "tip":
                    sent.append((tip(viewers[a], performer, b), live.pk if live else None, b))
                    if live is not None:
                        expected[live.pk] += b
                elif op == "refund" and sent:
                    sent_tip, show_id, tokens = sent[a % len(sent)]
                    _, created = money.reverse(original=sent_tip.transfer, kind=b, idempotency_key=f"{b}:{sent_tip.pk}")
                    if created and show_id is not None:
                        expected[show_id] -= tokens
            for show in shows:
                counter = ShowTipTotal.objects.filter(show=show).values_list("tokens", flat=True).first() or 0
                assert counter == summed(show) == expected[show.pk]
            progress = tip_goal_progress(performer)
            if live is None:
                assert progress is None
            else:
                assert progress["tokens"] == expected[live.pk]
                assert progress["reached"] == (expected[live.pk] >= 100)
            raise Rollback
    except Rollback:
        pass


def test_the_database_keeps_the_counter_non_negative(room):
    performer, _ = room
    show = Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())
    ShowTipTotal.objects.create(show=show, tokens=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShowTipTotal.objects.filter(show=show).update(tokens=-1)
    assert ShowTipTotal.objects.get(show=show).tokens == 5


def test_a_tips_cost_does_not_grow_with_the_shows_tips(room):
    """Same statements for the 2nd and the 31st tip, and none of them adds up
    the show's tips (the counter row is read and moved in place)."""
    performer, (viewer, _) = room
    Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())

    def tip_queries():
        with CaptureQueriesContext(connection) as captured:
            tip(viewer, performer, 1)
        return [q["sql"] for q in captured.captured_queries]

    tip(viewer, performer, 1)
    early = tip_queries()
    for _ in range(28):
        tip(viewer, performer, 1)
    late = tip_queries()
    assert len(late) == len(early)
    assert not [sql for sql in late if "SUM(" in sql.upper()]
    assert tip_goal_progress(performer)["tokens"] == 31
