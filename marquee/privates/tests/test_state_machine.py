"""Random request / accept / decline / tick / drop / end / crash / restart
sequences keep the money exact: for every viewer ``available + held =
funded − spent`` (spent read from the ledger's rows), no session is charged
more periods than have elapsed plus one (or its minimum, when the viewer
ended it), every hold of a closed session is closed, and ``ledger_check``
stays clean.  Each example runs in a savepoint rolled back at its end."""

from __future__ import annotations

import datetime
import itertools
import math
from unittest import mock

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from marquee.billing import money
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Entry, Hold
from marquee.ledger.services import InsufficientFunds
from marquee.ledger.tests.test_ledger import spend_tokens
from marquee.privates import services
from marquee.privates.models import GroupShow, PrivateShow
from marquee.privates.services import PrivateError
from marquee.privates.tests.conftest import T0, fund
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = pytest.mark.django_db
Status, Reason = PrivateShow.Status, PrivateShow.EndReason
PERIOD = 60


class Crash(Exception):
    """A worker or web process dying in the middle of a service."""


def snapshot():
    return (
        list(PrivateShow.objects.order_by("pk").values_list("pk", "status", "periods_charged", "warned_period")),
        list(Hold.objects.order_by("pk").values_list("pk", "status", "amount", "posted")),
        list(GroupShow.objects.order_by("pk").values_list("pk", "status")),
        Entry.objects.count(),
    )


class PrivateShows(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.clock = T0
        self.performer = PerformerFactory()
        self.show = ShowFactory(
            performer=self.performer, status=Show.Status.LIVE, started_at=T0 - datetime.timedelta(hours=1)
        )
        services.update_room_settings(
            actor=self.performer.user,
            performer=self.performer,
            privates_enabled=True,
            rate_tokens=10,
            minimum_minutes=2,
            exclusive_enabled=True,
            exclusive_rate_tokens=15,
            spies_enabled=True,
            spy_rate_tokens=3,
            group_shows_enabled=True,
        )
        self.viewers = [UserFactory() for _ in range(3)]
        self.funded = dict.fromkeys((v.pk for v in self.viewers), 0)
        self.keys = itertools.count()

    def teardown(self):
        try:
            # Whatever happened, closing the room leaves no hold open.
            services.stream_dropped(performer=self.performer, at=self.clock)
            self.clock += datetime.timedelta(hours=1)
            services.sweep_holds(now=self.clock)
            assert not Hold.objects.filter(status=Hold.Status.PENDING).exists()
            assert not PrivateShow.objects.filter(status__in=PrivateShow.OPEN).exists()
            self.money_is_exact()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------

    def session(self, index) -> PrivateShow | None:
        """Mostly an open session (where things happen), sometimes a closed one."""
        sessions = list(PrivateShow.objects.order_by("pk"))
        open_ones = [s for s in sessions if s.is_open]
        pool = sessions if index % 4 == 3 or not open_ones else open_ones
        return pool[index % len(pool)] if pool else None

    def refused_ok(self, call, **kwargs):
        try:
            return call(now=self.clock, **kwargs)
        except PrivateError as refused:
            assert 400 <= refused.status < 500
            return None

    # --- rules -----------------------------------------------------------------

    @initialize(amounts=st.lists(st.integers(0, 150), min_size=3, max_size=3))
    def fund_viewers(self, amounts):
        for viewer, amount in zip(self.viewers, amounts, strict=True):
            self.top_up(viewer, 40 + amount)  # enough for a request or two: the interesting part

    def top_up(self, viewer, amount):
        if amount:
            fund(viewer, amount)
            self.funded[viewer.pk] += amount

    @rule(who=st.integers(0, 2), kind=st.sampled_from(["private", "exclusive", "spy"]))
    def request(self, who, kind):
        before = (ledger.held_tokens(self.viewers[who]), snapshot())
        session = self.refused_ok(services.request_private, user=self.viewers[who], performer=self.performer, kind=kind)
        if session is None:
            assert (ledger.held_tokens(self.viewers[who]), snapshot()) == before

    @rule(who=st.integers(0, 2), kind=st.sampled_from(["private", "exclusive", "spy"]), accept=st.booleans())
    def request_and_answer(self, who, kind, accept):
        """The common path, made likely: a request answered at once."""
        session = self.refused_ok(services.request_private, user=self.viewers[who], performer=self.performer, kind=kind)
        if session is not None and session.status == Status.REQUESTED:
            answer = services.accept if accept else services.decline
            self.refused_ok(answer, actor=self.performer.user, session=session)

    @rule(index=st.integers(0, 20), accept=st.booleans())
    def answer(self, index, accept):
        session = self.session(index)
        if session is not None:
            self.refused_ok(services.accept if accept else services.decline, actor=self.performer.user, session=session)

    @rule(index=st.integers(0, 20), who=st.sampled_from(["payer", "performer", "stranger", "ban"]))
    def end(self, index, who):
        """Either side ends it, a stranger tries to, or the payer is banned / region-blocked."""
        session = self.session(index)
        if session is None:
            return
        if who == "ban":
            services.payer_blocked(performer=self.performer, user=session.payer, now=self.clock)
            return
        if who == "stranger":
            before = snapshot()
            stranger = next(v for v in self.viewers if v.pk != session.payer_id)
            with pytest.raises(PrivateError) as refused:
                services.end_private(actor=stranger, session=session, now=self.clock)
            assert refused.value.status == 404
            assert snapshot() == before
            return
        actor = self.performer.user if who == "performer" else session.payer
        self.refused_ok(services.end_private, actor=actor, session=session)

    @rule(seconds=st.integers(0, 150))
    def tick(self, seconds):
        self.clock += datetime.timedelta(seconds=seconds)
        services.expire_requests(now=self.clock)
        services.fail_due_group_shows(now=self.clock)
        services.bill_due_periods(now=self.clock)

    @rule(up=st.booleans())
    def stream(self, up):
        if up:
            services.stream_resumed(performer=self.performer, now=self.clock)
        else:
            services.stream_dropped(performer=self.performer, at=self.clock)

    @rule(who=st.integers(0, 2), tokens=st.integers(1, 40), buy=st.booleans())
    def wallet(self, who, tokens, buy):
        """Buying tokens, or tipping: an ordinary debit that may spend only what no hold reserves."""
        viewer = self.viewers[who]
        if buy:
            self.top_up(viewer, tokens)
            return
        available = ledger.available_tokens(viewer)
        try:
            with transaction.atomic():
                spend_tokens(viewer, self.performer, tokens, f"tip:{next(self.keys)}")
        except InsufficientFunds:
            assert tokens > available
            return
        assert tokens <= available
        self.funded[viewer.pk] -= tokens  # tips are not private spending: count them out of the funds

    @rule(who=st.integers(0, 2), goal=st.integers(2, 3), minutes=st.integers(1, 3))
    def group(self, who, goal, minutes):
        """Announce a group show if none is open, else join the open one."""
        group = GroupShow.objects.filter(performer=self.performer, status="announced").first()
        if group is None:
            self.refused_ok(
                services.announce_group_show,
                actor=self.performer.user,
                performer=self.performer,
                rate_tokens=4,
                goal_viewers=goal,
                window_minutes=minutes,
            )
        else:
            self.refused_ok(services.join_group_show, user=self.viewers[who], group=group)

    @rule(
        call_number=st.integers(0, 3),
        what=st.sampled_from(["tick", "end", "accept"]),
        index=st.integers(0, 20),
    )
    def crash(self, call_number, what, index):
        """The process dies in the middle of posting from a hold (call_number
        1..3), or before its commit (0): what that transaction did is rolled
        back, what committed before stays, and the next tick ("restart")
        carries on from the rows."""
        session = self.session(index)
        before = snapshot()
        if call_number == 0:
            if session is not None:
                with transaction.atomic():
                    try:
                        services.end_private(actor=self.performer.user, session=session, now=self.clock)
                    except PrivateError:
                        pass
                    transaction.set_rollback(True)
            assert snapshot() == before
            return
        calls = {"n": 0}
        real = money.post_from_hold

        def dying(**kwargs):
            calls["n"] += 1
            if calls["n"] == call_number:
                raise Crash
            return real(**kwargs)

        with mock.patch("marquee.billing.money.post_from_hold", dying):
            try:
                if what == "tick":
                    self.clock += datetime.timedelta(seconds=PERIOD)
                    services.bill_due_periods(now=self.clock)
                elif session is not None and what == "end":
                    services.end_private(actor=session.payer, session=session, now=self.clock)
                elif session is not None:
                    services.accept(actor=self.performer.user, session=session, now=self.clock)
            except Crash:
                if what != "tick":  # one transaction: all of it rolled back
                    assert snapshot() == before
            except PrivateError:
                pass

    # --- invariants --------------------------------------------------------------

    @invariant()
    def money_is_exact(self):
        for viewer in self.viewers:
            spent = -(
                Entry.objects.filter(account__user=viewer, account__kind="wallet", transfer__kind="private").aggregate(
                    total=Sum("amount")
                )["total"]
                or 0
            )
            available, held = ledger.available_tokens(viewer), ledger.held_tokens(viewer)
            assert available >= 0 and held >= 0
            assert available + held == self.funded[viewer.pk] - spent
            open_holds = Hold.objects.filter(private_show__payer=viewer, status=Hold.Status.PENDING)
            assert held == sum(h.amount - h.posted for h in open_holds)
            charged = sum(
                s.periods_charged * s.rate_tokens
                for s in PrivateShow.objects.filter(payer=viewer, performer=self.performer)
            )
            assert charged == spent

    @invariant()
    def never_charged_beyond_elapsed_plus_one(self):
        for s in PrivateShow.objects.all():
            if s.started_at is None:
                assert s.periods_charged == 0
                continue
            until = s.ended_at or self.clock
            elapsed = math.ceil((until - s.started_at).total_seconds() / PERIOD)
            allowed = elapsed + 1
            if s.end_reason in (Reason.PAYER, Reason.NO_FUNDS):
                allowed = max(allowed, s.minimum_periods)
            assert s.periods_charged <= allowed, (s, s.periods_charged, elapsed)

    @invariant()
    def charged_only_for_started_periods(self):
        """The tighter bound: periods begun by the end (or the drop, or now),
        or the minimum when the viewer ended it or ran out of tokens."""
        for s in PrivateShow.objects.filter(started_at__isnull=False):
            until = s.ended_at or self.clock
            if s.stream_dropped_at is not None:
                until = min(until, s.stream_dropped_at)
            begun = int((until - s.started_at).total_seconds() // PERIOD) + 1
            bound = max(begun, s.minimum_periods) if s.end_reason in (Reason.PAYER, Reason.NO_FUNDS) else begun
            assert s.periods_charged <= bound, (s, s.end_reason, s.periods_charged, begun)

    @invariant()
    def holds_follow_sessions(self):
        for s in PrivateShow.objects.select_related("hold"):
            assert s.hold is not None
            assert (s.hold.status == Hold.Status.PENDING) == s.is_open, s

    @invariant()
    def ledger_is_clean(self):
        report = ledger.check_invariants()
        assert report.ok, report.problems


def _run(settings, max_examples):
    settings.PRIVATE_BILLING_SECONDS = PERIOD
    settings.PRIVATE_REQUEST_EXPIRY_SECONDS = 120
    settings.PRIVATE_STREAM_DROP_GRACE_SECONDS = 30
    run_state_machine_as_test(
        PrivateShows,
        settings=hsettings(
            max_examples=max_examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            report_multiple_bugs=False,
        ),
    )


def test_private_shows_keep_the_money_exact(settings, db):
    _run(settings, max_examples=30)
