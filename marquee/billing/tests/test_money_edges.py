"""Edges of the one money module ``marquee.billing.money`` (mutation testing,
issue 11): idempotency keys, the earnings hold, what a token spend moves,
which earnings are releasable and when, and a failed payout.  Expected
amounts are written out from the settings in ``conftest._money_settings``
(60% share, 10 cents a token, 7-day hold)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from marquee.billing import money
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer, TransferKind
from tests.factories import PayoutFactory
from tests.support.billing import fund

PENDING = AccountKind.PERFORMER_PENDING.value
AVAILABLE = AccountKind.PERFORMER_AVAILABLE.value
IN_FLIGHT = AccountKind.PAYOUTS_IN_FLIGHT.value


def test_keys_are_scoped_and_tip_keys_fit_the_column():
    user, media_set = SimpleNamespace(pk=7), SimpleNamespace(pk=3)
    assert money.tip_key(user, "abc") == "tip:7:abc"
    assert money.tip_key(SimpleNamespace(pk=8), "abc") != money.tip_key(user, "abc")
    long_key = money.tip_key(user, "x" * 300)
    assert len(long_key) == 200 and long_key.startswith("tip:7:xxx")
    assert money.content_key(user, media_set) == "content:3:user:7"
    assert money.purchase_key(SimpleNamespace(pk=11)) == "purchase:11"


def test_hold_lasts_the_configured_days(settings):
    now = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
    settings.EARNINGS_HOLD_DAYS = 3
    assert money.hold_until(now) == datetime.datetime(2026, 1, 4, 12, tzinfo=datetime.UTC)


def test_only_tips_and_content_spend_tokens_and_only_refunds_and_chargebacks_reverse():
    with pytest.raises(ValueError, match="not a token spend: refund"):
        money.spend_tokens(
            kind=TransferKind.REFUND, user=None, performer=None, tokens=1, idempotency_key="k", source_type="t"
        )
    with pytest.raises(ValueError, match="not a reversal: tip"):
        money.reverse(original=None, kind=TransferKind.TIP, idempotency_key="k")


def spend(viewer, performer, tokens, key="spend-1", memo=""):
    with transaction.atomic():
        return money.spend_tokens(
            kind=TransferKind.TIP,
            user=viewer,
            performer=performer,
            tokens=tokens,
            idempotency_key=key,
            source_type="test.tip",
            source_id="1",
            memo=memo,
        )


@pytest.mark.django_db
def test_a_spend_moves_the_tokens_value_split_and_held(viewer, performer):
    fund(viewer, tokens=100)
    before = timezone.now()
    transfer, created = spend(viewer, performer, 25, memo="m" * 300)
    assert created
    assert ledger.wallet_balance(viewer) == 75
    # 25 tokens x 10 cents = 250 cents: 150 to the performer (held), 100 fee.
    assert (transfer.gross_cents, transfer.performer_cents) == (250, 150)
    assert ledger.performer_balances(performer) == {PENDING: 150, AVAILABLE: 0, IN_FLIGHT: 0}
    assert ledger.platform_total(AccountKind.PLATFORM_FEES, "cents") == 100
    assert before + datetime.timedelta(days=7) <= transfer.available_at <= timezone.now() + datetime.timedelta(days=7)
    assert transfer.memo == "m" * 200
    assert (transfer.user_id, transfer.performer_id, transfer.source_type, transfer.source_id) == (
        viewer.pk,
        performer.pk,
        "test.tip",
        "1",
    )

    again, created = spend(viewer, performer, 25)
    assert (again.pk, created) == (transfer.pk, False)
    assert ledger.wallet_balance(viewer) == 75


@pytest.mark.django_db
def test_a_spend_beyond_the_wallet_is_refused_and_moves_nothing(viewer, performer):
    fund(viewer, tokens=10)
    transfers = Transfer.objects.count()
    with pytest.raises(money.NotEnoughTokens) as refused:
        spend(viewer, performer, 11)
    assert (refused.value.code, refused.value.status) == ("insufficient_tokens", 402)
    assert refused.value.message == "Not enough tokens in your wallet."
    assert Transfer.objects.count() == transfers
    assert ledger.wallet_balance(viewer) == 10
    assert ledger.performer_balances(performer)[PENDING] == 0


@pytest.mark.django_db
def test_earnings_are_releasable_from_the_end_of_the_hold_once(viewer, performer):
    fund(viewer, tokens=100)
    earning, _ = spend(viewer, performer, 20)
    end = earning.available_at
    assert list(money.releasable_earnings(end - datetime.timedelta(microseconds=1))) == []
    assert list(money.releasable_earnings(end)) == [earning]

    with transaction.atomic():
        assert money.release(earning=earning) is True
    assert ledger.performer_balances(performer) == {PENDING: 0, AVAILABLE: 120, IN_FLIGHT: 0}
    released = Transfer.objects.get(kind=TransferKind.RELEASE)
    assert (released.related_id, released.performer_id, released.performer_cents) == (earning.pk, performer.pk, 120)
    assert (released.source_type, released.source_id) == ("test.tip", "1")
    assert list(money.releasable_earnings(end)) == []
    with transaction.atomic():
        assert money.release(earning=earning) is False
    assert ledger.performer_balances(performer)[AVAILABLE] == 120


@pytest.mark.django_db
def test_reversed_earnings_are_not_releasable_and_a_clawed_back_release_moves_nothing(viewer, performer):
    fund(viewer, tokens=100)
    earning, _ = spend(viewer, performer, 20)
    with transaction.atomic():
        money.reverse(original=earning, kind=TransferKind.REFUND, idempotency_key="refund:1")
    assert list(money.releasable_earnings(earning.available_at)) == []
    with transaction.atomic():
        assert money.release(earning=earning) is False
    assert ledger.performer_balances(performer) == {PENDING: 0, AVAILABLE: 0, IN_FLIGHT: 0}


@pytest.mark.django_db
def test_a_failed_payout_returns_the_cents_to_available(viewer, performer):
    fund(viewer, tokens=100)
    earning, _ = spend(viewer, performer, 100)
    with transaction.atomic():
        money.release(earning=earning)
    payout = PayoutFactory(performer=performer, amount_cents=600)
    with transaction.atomic():
        requested = money.payout_requested(payout=payout)
    assert (requested.kind, requested.source_type, requested.performer_id, requested.source_id) == (
        TransferKind.PAYOUT,
        "billing.payout",
        performer.pk,
        str(payout.pk),
    )
    assert ledger.performer_balances(performer) == {PENDING: 0, AVAILABLE: 0, IN_FLIGHT: 600}
    with transaction.atomic():
        failed = money.payout_settled(payout=payout, paid=False)
    assert (failed.kind, failed.source_type, failed.idempotency_key, failed.performer_id, failed.source_id) == (
        TransferKind.PAYOUT_FAILED,
        "billing.payout",
        f"payout:{payout.pk}:failed",
        performer.pk,
        str(payout.pk),
    )
    assert ledger.performer_balances(performer) == {PENDING: 0, AVAILABLE: 600, IN_FLIGHT: 0}
    assert ledger.platform_total(AccountKind.PAYOUTS_SENT, "cents") == 0


@pytest.mark.django_db
def test_a_paid_payout_leaves_the_platform(viewer, performer):
    fund(viewer, tokens=100)
    earning, _ = spend(viewer, performer, 100)
    with transaction.atomic():
        money.release(earning=earning)
    payout = PayoutFactory(performer=performer, amount_cents=600)
    with transaction.atomic():
        money.payout_requested(payout=payout)
        paid = money.payout_settled(payout=payout, paid=True)
    assert (paid.kind, paid.idempotency_key, paid.performer_id, paid.source_id) == (
        TransferKind.PAYOUT_PAID,
        f"payout:{payout.pk}:paid",
        performer.pk,
        str(payout.pk),
    )
    assert ledger.performer_balances(performer) == {PENDING: 0, AVAILABLE: 0, IN_FLIGHT: 0}
    assert ledger.platform_total(AccountKind.PAYOUTS_SENT, "cents") == 600


@pytest.mark.django_db
def test_existing_finds_a_transfer_by_its_key(viewer, performer):
    fund(viewer, tokens=100)
    transfer, _ = spend(viewer, performer, 5, key="the-key")
    assert money.existing("the-key") == transfer
    assert money.existing("another-key") is None


def test_not_enough_tokens_keeps_what_it_is_given():
    error = money.NotEnoughTokens(message="Top up first.", needed=5)
    assert (error.code, error.message, error.status, error.extra) == (
        "insufficient_tokens",
        "Top up first.",
        402,
        {"needed": 5},
    )


@pytest.mark.django_db
def test_a_spend_that_earns_the_performer_nothing_is_never_releasable(viewer, performer, settings):
    fund(viewer, tokens=100)
    settings.TOKEN_VALUE_CENTS = 1
    earning, _ = spend(viewer, performer, 1)  # 60% of 1 cent rounds down to 0
    assert earning.performer_cents == 0
    assert list(money.releasable_earnings(earning.available_at)) == []


@pytest.mark.django_db
def test_a_spend_without_source_id_or_memo_stores_them_empty(viewer, performer):
    fund(viewer, tokens=10)
    with transaction.atomic():
        transfer, _ = money.spend_tokens(
            kind=TransferKind.CONTENT, user=viewer, performer=performer, tokens=2, idempotency_key="k", source_type="t"
        )
    assert (transfer.kind, transfer.source_id, transfer.memo) == (TransferKind.CONTENT, "", "")


@pytest.mark.django_db
def test_a_one_cent_share_is_releasable(viewer, performer, settings):
    fund(viewer, tokens=100)
    settings.TOKEN_VALUE_CENTS = 2
    earning, _ = spend(viewer, performer, 1)  # 60% of 2 cents rounds down to 1
    assert earning.performer_cents == 1
    assert list(money.releasable_earnings(earning.available_at)) == [earning]


@pytest.mark.django_db
def test_a_reversal_without_a_memo_says_what_it_reverses(viewer, performer):
    fund(viewer, tokens=100)
    earning, _ = spend(viewer, performer, 20)
    with transaction.atomic():
        refund, created = money.reverse(original=earning, kind=TransferKind.REFUND, idempotency_key="refund:2")
    assert created and refund.memo == f"refund of transfer {earning.pk}"
