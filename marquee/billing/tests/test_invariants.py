"""Random sequences of purchases, renewals, tips, refunds and chargebacks keep
every ledger invariant, and wallets match an independent model."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marquee.billing import services
from marquee.billing.models import Purchase, Subscription
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Account
from marquee.ledger.services import provider_account
from marquee.lib.geo import UNKNOWN
from tests.factories import PerformerFactory, ShowFactory, UserFactory
from tests.support.billing import pending_purchase, post_sandbox, sandbox_body, tip

pytestmark = pytest.mark.django_db

user_index = st.integers(0, 2)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("buy_tokens"), user_index, st.sampled_from([50, 100, 300])),
        st.tuples(st.just("buy_ticket"), user_index, st.integers(0, 1)),
        st.tuples(st.just("subscribe"), user_index, st.just(0)),
        st.tuples(st.just("renew"), user_index, st.integers(1, 3)),
        st.tuples(st.just("tip"), user_index, st.integers(1, 200)),
        st.tuples(st.just("refund"), user_index, st.integers(0, 5)),
        st.tuples(st.just("chargeback"), user_index, st.integers(0, 5)),
        st.tuples(st.just("release"), st.just(0), st.integers(0, 10)),
        st.tuples(st.just("refund_show"), st.just(0), st.integers(0, 1)),
    ),
    max_size=25,
)


class Rollback(Exception):
    pass


@pytest.fixture
def world(db):
    performer = PerformerFactory()
    users = [UserFactory() for _ in range(3)]
    shows = [
        ShowFactory(performer=performer, kind="premium", price_cents=p, status="live" if i == 0 else "scheduled")
        for i, p in enumerate([500, 1500])
    ]
    return performer, users, shows


def assert_invariants(users, wallets, paid_cents):
    report = ledger.check_invariants()
    assert report.ok, report.problems
    for i, user in enumerate(users):
        assert ledger.wallet_balance(user) == wallets[i]
    assert not Account.objects.filter(allow_negative=False, balance__lt=0).exists()
    assert provider_account("sandbox").balance == -paid_cents


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_money_histories_keep_invariants(world, ops):
    performer, users, shows = world
    try:
        with transaction.atomic():
            wallets = [0, 0, 0]
            paid_cents = 0
            clock = timezone.now()
            for op, who, arg in ops:
                user = users[who]
                if op == "buy_tokens":
                    purchase = pending_purchase(user, tokens=arg, amount_cents=arg * 9)
                    services.sandbox_complete_checkout(purchase=purchase, pay=True)
                    wallets[who] += arg
                    paid_cents += arg * 9
                elif op == "buy_ticket":
                    show = shows[arg]
                    try:
                        purchase, _ = services.start_checkout(
                            user=user,
                            location=UNKNOWN,
                            product="ticket",
                            show=show,
                            success_url_for=lambda p: "http://t/",
                        )
                    except services.BillingError as exc:
                        assert exc.code == "already_owned"
                        continue
                    services.sandbox_complete_checkout(purchase=purchase, pay=True)
                    paid_cents += show.price_cents
                elif op == "subscribe":
                    try:
                        purchase, _ = services.start_checkout(
                            user=user,
                            location=UNKNOWN,
                            product="subscription",
                            performer=performer,
                            success_url_for=lambda p: "http://t/",
                        )
                    except services.BillingError as exc:
                        assert exc.code == "already_owned"
                        continue
                    services.sandbox_complete_checkout(purchase=purchase, pay=True)
                    paid_cents += performer.subscription_price_cents
                elif op == "renew":
                    subscription = Subscription.objects.filter(user=user).order_by("-pk").first()
                    if subscription is None:
                        continue
                    before = subscription.current_period_end
                    end = before + datetime.timedelta(days=30 * arg - 40)  # sometimes earlier than now: out of order
                    body = sandbox_body(
                        "subscription.renewed",
                        {"subscription": subscription.provider_subscription_id, "period_end": int(end.timestamp())},
                    )
                    assert post_sandbox(Client(), body).status_code == 200
                    paid_cents += subscription.price_cents
                    subscription.refresh_from_db()
                    assert subscription.current_period_end >= before
                elif op == "tip":
                    try:
                        tip(user, performer, arg)
                    except services.BillingError as exc:
                        assert exc.code == "insufficient_tokens" and wallets[who] < arg
                    else:
                        assert wallets[who] >= arg
                        wallets[who] -= arg
                elif op in ("refund", "chargeback"):
                    paid = list(Purchase.objects.filter(user=user, status="paid").order_by("pk"))
                    if not paid:
                        continue
                    purchase = paid[arg % len(paid)]
                    services.sandbox_reverse(purchase=purchase, chargeback=op == "chargeback")
                    paid_cents -= purchase.amount_cents
                    if purchase.product == "tokens":
                        wallets[who] -= min(purchase.tokens, wallets[who])
                elif op == "refund_show":
                    # A cancelled show: every paid ticket of it is refunded, once.
                    show = shows[arg]
                    paid = list(
                        Purchase.objects.filter(show=show, status="paid").values_list("amount_cents", flat=True)
                    )
                    assert services.refund_show_tickets(show=show, reason="test") == len(paid)
                    assert services.refund_show_tickets(show=show, reason="test") == 0
                    paid_cents -= sum(paid)
                elif op == "release":
                    clock += datetime.timedelta(days=arg)
                    services.release_due_earnings(now=clock)
                assert_invariants(users, wallets, paid_cents)
            balances = ledger.performer_balances(performer)
            assert all(value >= 0 for value in balances.values())
            raise Rollback
    except Rollback:
        pass
