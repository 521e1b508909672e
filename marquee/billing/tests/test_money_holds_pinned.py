"""The held-token path of ``marquee.billing.money`` (private, spy and group
shows) and the tip-goal counter a reversal moves, pinned account by account
for mutation testing (issue 11).  Expected amounts are written out from
``conftest._money_settings`` (60 % share, 10 cents a token, 7-day hold)."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from marquee.billing import money
from marquee.billing.models import ShowTipTotal
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Entry, Hold, Transfer, TransferKind
from marquee.ledger.services import LedgerError
from marquee.shows.models import Show
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)


def moves(transfer) -> dict[str, int]:
    return dict(Entry.objects.filter(transfer=transfer).values_list("account__code", "amount"))


def fresh(hold) -> tuple:
    row = Hold.objects.get(pk=hold.pk)
    return row.amount, row.posted, row.status


def held(viewer, tokens, key="show:1"):
    with transaction.atomic():
        return money.hold_tokens(
            user=viewer, tokens=tokens, idempotency_key=key, source_type="privates.privateshow", source_id=1
        )


def spend(hold, viewer, performer, tokens, key, reserve_to=None, memo="private 1"):
    with transaction.atomic():
        return money.spend_held_tokens(
            hold=hold,
            user=viewer,
            performer=performer,
            tokens=tokens,
            idempotency_key=key,
            source_type="privates.privateshow",
            source_id=1,
            now=NOW,
            memo=memo,
            reserve_to=reserve_to,
        )


def test_hold_tokens_reserves_and_records_the_show(viewer):
    fund(viewer, tokens=100)
    hold = held(viewer, 30)
    row = Hold.objects.get(pk=hold.pk)
    assert (row.amount, row.posted, row.status) == (30, 0, Hold.Status.PENDING)
    assert (row.source_type, row.source_id, row.idempotency_key) == ("privates.privateshow", "1", "show:1")
    assert row.account.code == f"wallet:{viewer.pk}"
    assert ledger.held_tokens(viewer) == 30 and ledger.available_tokens(viewer) == 70
    # The same key again: the same hold, nothing more reserved.
    assert held(viewer, 30).pk == hold.pk and ledger.held_tokens(viewer) == 30


def test_hold_tokens_beyond_the_wallet_is_not_enough_tokens(viewer):
    fund(viewer, tokens=20)
    with pytest.raises(money.NotEnoughTokens) as refused:
        held(viewer, 21)
    assert (refused.value.code, refused.value.message, refused.value.status) == (
        "insufficient_tokens",
        "Not enough tokens in your wallet.",
        402,
    )
    assert not Hold.objects.exists() and ledger.held_tokens(viewer) == 0
    assert held(viewer, 20, key="all").amount == 20


def test_extend_tokens_hold_grows_to_a_total_or_refuses_with_nothing_changed(viewer):
    fund(viewer, tokens=50)
    hold = held(viewer, 10)
    with transaction.atomic():
        assert money.extend_tokens_hold(hold=hold, to_tokens=50).amount == 50
    assert fresh(hold) == (50, 0, Hold.Status.PENDING)
    with pytest.raises(money.NotEnoughTokens) as refused, transaction.atomic():
        money.extend_tokens_hold(hold=hold, to_tokens=51)
    assert (refused.value.code, refused.value.status) == ("insufficient_tokens", 402)
    assert fresh(hold) == (50, 0, Hold.Status.PENDING) and ledger.held_tokens(viewer) == 50


def test_spending_held_tokens_pays_the_performer_like_a_tip(viewer, performer, settings):
    fund(viewer, tokens=100)
    settings.LEDGER_PLATFORM_SHARDS = viewer.pk + 1  # the viewer's shard is viewer.pk, never row 0
    hold = held(viewer, 30)
    transfer, created = spend(hold, viewer, performer, 10, "show:1:period:1", memo="m" * 300)
    assert created
    row = Transfer.objects.get(pk=transfer.pk)
    assert (row.kind, row.idempotency_key, row.hold_id) == (TransferKind.PRIVATE, "show:1:period:1", hold.pk)
    assert (row.user_id, row.performer_id, row.source_type, row.source_id) == (
        viewer.pk,
        performer.pk,
        "privates.privateshow",
        "1",
    )
    assert (row.gross_cents, row.performer_cents) == (100, 60)
    assert row.available_at == NOW + datetime.timedelta(days=7)
    assert row.memo == "m" * 200
    shard = f"#{viewer.pk}"
    assert moves(row) == {
        f"wallet:{viewer.pk}": -10,
        f"token_supply:tokens{shard}": 10,
        f"token_float:cents{shard}": -100,
        f"performer_pending:{performer.pk}": 60,
        f"platform_fees:cents{shard}": 40,
    }
    assert fresh(hold) == (30, 10, Hold.Status.PENDING)
    assert ledger.wallet_balance(viewer) == 90 and ledger.held_tokens(viewer) == 20
    again, created_again = spend(hold, viewer, performer, 10, "show:1:period:1")
    assert not created_again and again.pk == transfer.pk and ledger.wallet_balance(viewer) == 90


def test_reserve_to_keeps_the_hold_one_period_ahead_when_affordable(viewer, performer):
    fund(viewer, tokens=100)
    hold = held(viewer, 10)
    spend(hold, viewer, performer, 10, "p1", reserve_to=20)
    assert (hold.amount, hold.posted) == (20, 10)  # refreshed in place
    assert fresh(hold) == (20, 10, Hold.Status.PENDING)
    assert ledger.wallet_balance(viewer) == 90 and ledger.held_tokens(viewer) == 10


def test_reserve_to_short_of_the_posting_is_not_enough_tokens_and_writes_nothing(viewer, performer):
    fund(viewer, tokens=15)
    hold = held(viewer, 10)
    spend(hold, viewer, performer, 10, "p1", reserve_to=20)  # 5 available: only what the posting needs
    assert fresh(hold) == (10, 10, Hold.Status.PENDING)
    with transaction.atomic():
        with pytest.raises(money.NotEnoughTokens) as refused:
            money.spend_held_tokens(
                hold=hold,
                user=viewer,
                performer=performer,
                tokens=10,
                idempotency_key="p2",
                source_type="privates.privateshow",
                source_id=1,
                now=NOW,
                reserve_to=20,
            )
        assert Transfer.objects.filter(idempotency_key="p2").count() == 0  # the transaction goes on
    assert (refused.value.code, refused.value.status) == ("insufficient_tokens", 402)
    assert fresh(hold) == (10, 10, Hold.Status.PENDING)
    assert ledger.wallet_balance(viewer) == 5 and ledger.held_tokens(viewer) == 0


def test_spend_held_tokens_without_reserve_to_never_grows_the_hold(viewer, performer):
    fund(viewer, tokens=100)
    hold = held(viewer, 10)
    spend(hold, viewer, performer, 10, "p1")
    assert fresh(hold) == (10, 10, Hold.Status.PENDING)
    # More than the hold has left, with no reserve_to: a programming error, not a short wallet.
    with pytest.raises(LedgerError) as refused, transaction.atomic():
        spend(hold, viewer, performer, 1, "p2")
    assert (refused.value.code, refused.value.status) == ("ledger_invariant", 500)
    assert ledger.wallet_balance(viewer) == 90 and ledger.held_tokens(viewer) == 0


def test_release_hold_voids_the_rest_once(viewer, performer):
    fund(viewer, tokens=100)
    hold = held(viewer, 30)
    spend(hold, viewer, performer, 10, "p1")
    with transaction.atomic():
        closed, now_closed = money.release_hold(hold=hold)
    assert now_closed and closed.status == Hold.Status.VOIDED
    assert ledger.held_tokens(viewer) == 0 and ledger.wallet_balance(viewer) == 90
    with transaction.atomic():
        _, again = money.release_hold(hold=hold)
    assert not again


def live_show(performer):
    return Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())


def counter(show) -> int:
    return ShowTipTotal.objects.get(show=show).tokens


def test_reversing_a_tip_takes_it_out_of_the_shows_goal_once(viewer, performer):
    fund(viewer, tokens=100)
    show = live_show(performer)
    first = tip(viewer, performer, 7)
    tip(viewer, performer, 5)
    assert counter(show) == 12
    for kind in (TransferKind.REFUND, TransferKind.CHARGEBACK):
        _, created = money.reverse(original=first.transfer, kind=kind, idempotency_key=f"{kind}:tip")
        assert created == (kind == TransferKind.REFUND)  # one reversal per original
        assert counter(show) == 5
    money.reverse(original=first.transfer, kind=TransferKind.REFUND, idempotency_key=f"{TransferKind.REFUND}:tip")
    assert counter(show) == 5


def test_reversing_something_else_leaves_the_goal_alone(viewer, performer):
    fund(viewer, tokens=100)
    show = live_show(performer)
    tip(viewer, performer, 9)
    with transaction.atomic():
        content, _ = money.spend_tokens(
            kind=TransferKind.CONTENT,
            user=viewer,
            performer=performer,
            tokens=9,
            idempotency_key="content:1",
            source_type="content.mediaset",
        )
    money.reverse(original=content, kind=TransferKind.REFUND, idempotency_key="refund:content")
    assert counter(show) == 9


def test_a_held_spend_without_a_memo_stores_none(viewer, performer):
    # Written after the mutation run (survivor spend_held_tokens__mutmut_1: the memo default).
    fund(viewer, tokens=20)
    hold = held(viewer, 10)
    with transaction.atomic():
        transfer, _ = money.spend_held_tokens(
            hold=hold,
            user=viewer,
            performer=performer,
            tokens=4,
            idempotency_key="p",
            source_type="privates.privateshow",
            source_id=1,
            now=NOW,
        )
    row = Transfer.objects.get(pk=transfer.pk)
    assert row.memo == "" and (row.gross_cents, row.performer_cents) == (40, 24)
    assert fresh(hold) == (10, 4, Hold.Status.PENDING)
