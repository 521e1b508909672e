"""What each cash-in, forfeit and purchase reversal of ``marquee.billing.money``
moves, account by account (mutation testing, issue 11).  The purchases are
plain objects carrying only what the money module reads, so every product
kind can be booked without building shows.  Expected amounts are written out
from ``conftest._money_settings`` (60% share, 10 cents a token, 7-day hold);
account codes are spelled out as the ledger names them."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

from marquee.billing import money
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Entry, Transfer, TransferKind
from tests.support.billing import fund

NOW = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)


def moves(transfer) -> dict[str, int]:
    return dict(Entry.objects.filter(transfer=transfer).values_list("account__code", "amount"))


def purchase(viewer, performer=None, **fields):
    values = {
        "pk": 4242,
        "product": "tokens",
        "provider": "sandbox",
        "user": viewer,
        "performer": performer,
        "tokens": 100,
        "amount_cents": 999,
        "description": "100 tokens",
    }
    return SimpleNamespace(**{**values, **fields})


def book(function, **kwargs):
    with transaction.atomic():
        return function(**kwargs)


@pytest.mark.django_db
def test_a_token_pack_puts_tokens_in_the_wallet_and_cash_in_the_float(viewer):
    pack = purchase(viewer)
    transfer = book(money.book_token_pack, purchase=pack)
    assert moves(transfer) == {
        "token_supply:tokens": -100,
        f"wallet:{viewer.pk}": 100,
        "provider_clearing:cents:sandbox": -999,
        "token_float:cents": 999,
    }
    assert (transfer.kind, transfer.idempotency_key, transfer.user_id, transfer.performer_id) == (
        TransferKind.TOKEN_PURCHASE,
        "purchase:4242",
        viewer.pk,
        None,
    )
    assert (transfer.source_type, transfer.source_id, transfer.gross_cents, transfer.memo) == (
        "billing.purchase",
        "4242",
        999,
        "100 tokens",
    )
    assert (transfer.performer_cents, transfer.available_at) == (0, None)
    again = book(money.book_token_pack, purchase=pack)
    assert again.pk == transfer.pk
    assert ledger.wallet_balance(viewer) == 100


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("product", "kind"),
    [("ticket", TransferKind.TICKET), ("private", TransferKind.PRIVATE), ("subscription", TransferKind.SUBSCRIPTION)],
)
def test_a_sale_holds_the_performer_share_and_books_the_fee(viewer, performer, product, kind):
    sale = purchase(viewer, performer, product=product, provider="stripe", amount_cents=1001, description="A show")
    transfer = book(money.book_sale, purchase=sale, now=NOW)
    # 60% of 1001 cents rounds down to 600; the fee is the rest.
    assert moves(transfer) == {
        "provider_clearing:cents:stripe": -1001,
        f"performer_pending:{performer.pk}": 600,
        "platform_fees:cents": 401,
    }
    assert (transfer.kind, transfer.idempotency_key, transfer.user_id, transfer.performer_id) == (
        kind,
        "purchase:4242",
        viewer.pk,
        performer.pk,
    )
    assert (transfer.source_type, transfer.source_id, transfer.memo) == ("billing.purchase", "4242", "A show")
    assert (transfer.gross_cents, transfer.performer_cents) == (1001, 600)
    assert transfer.available_at == datetime.datetime(2026, 3, 8, 9, 30, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_a_sale_without_a_time_is_held_from_now(viewer, performer):
    before = timezone.now()
    transfer = book(money.book_sale, purchase=purchase(viewer, performer, product="subscription", amount_cents=500))
    week = datetime.timedelta(days=7)
    assert before + week <= transfer.available_at <= timezone.now() + week


@pytest.mark.django_db
def test_book_purchase_books_a_pack_or_a_sale_by_product(viewer, performer):
    pack = book(money.book_purchase, purchase=purchase(viewer, pk=1), now=NOW)
    sale = book(
        money.book_purchase, purchase=purchase(viewer, performer, pk=2, product="ticket", amount_cents=1000), now=NOW
    )
    assert (pack.kind, pack.idempotency_key) == (TransferKind.TOKEN_PURCHASE, "purchase:1")
    assert (sale.kind, sale.idempotency_key, sale.performer_cents) == (TransferKind.TICKET, "purchase:2", 600)
    assert sale.available_at == NOW + datetime.timedelta(days=7)


@pytest.mark.django_db
def test_forfeited_tokens_go_back_to_the_supply_and_their_value_is_named(viewer):
    fund(viewer, tokens=100)
    with transaction.atomic():
        transfer, created = money.forfeit_tokens(user=viewer, tokens=30, idempotency_key="close:1")
    assert created
    assert moves(transfer) == {
        f"wallet:{viewer.pk}": -30,
        "token_supply:tokens": 30,
        "token_float:cents": -300,
        "forfeited_tokens:cents": 300,
    }
    assert (transfer.kind, transfer.idempotency_key, transfer.user_id, transfer.performer_id) == (
        TransferKind.FORFEIT,
        "close:1",
        viewer.pk,
        None,
    )
    assert (transfer.source_type, transfer.source_id, transfer.gross_cents) == ("accounts.user", str(viewer.pk), 300)
    with transaction.atomic():
        again, created_again = money.forfeit_tokens(user=viewer, tokens=30, idempotency_key="close:1")
    assert (again.pk, created_again) == (transfer.pk, False)
    assert ledger.wallet_balance(viewer) == 70


@pytest.mark.django_db
def test_a_single_token_can_be_forfeited_but_not_none(viewer):
    fund(viewer, tokens=5)
    for tokens in (0, -1):
        with pytest.raises(ValueError, match=r"^nothing to forfeit$"):
            money.forfeit_tokens(user=viewer, tokens=tokens, idempotency_key=f"close:{tokens}")
    assert ledger.wallet_balance(viewer) == 5
    with transaction.atomic():
        transfer, _ = money.forfeit_tokens(user=viewer, tokens=1, idempotency_key="close:one")
    assert transfer.gross_cents == 10
    assert ledger.wallet_balance(viewer) == 4


@pytest.mark.django_db
def test_forfeiting_more_than_the_wallet_is_refused_and_moves_nothing(viewer):
    fund(viewer, tokens=5)
    transfers = Transfer.objects.count()
    with pytest.raises(money.NotEnoughTokens) as refused, transaction.atomic():
        money.forfeit_tokens(user=viewer, tokens=6, idempotency_key="close:2")
    assert (refused.value.code, refused.value.status) == ("insufficient_tokens", 402)
    assert Transfer.objects.count() == transfers
    assert ledger.wallet_balance(viewer) == 5


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [TransferKind.REFUND, TransferKind.CHARGEBACK])
def test_a_purchase_reversal_takes_back_exactly_what_the_sale_booked(viewer, performer, kind):
    sale = purchase(viewer, performer, product="subscription", provider="ccbill", amount_cents=2000)
    original = book(money.book_sale, purchase=sale, now=NOW)
    reversal = book(money.reverse_purchase_money, purchase=sale, kind=kind)
    assert (reversal.kind, reversal.idempotency_key, reversal.related_id) == (
        kind,
        f"{kind}:purchase:4242",
        original.pk,
    )
    assert moves(reversal) == {
        "provider_clearing:cents:ccbill": 2000,
        f"performer_pending:{performer.pk}": -1200,
        "platform_fees:cents": -800,
    }
    again = book(money.reverse_purchase_money, purchase=sale, kind=kind)
    assert again.pk == reversal.pk
    assert Transfer.objects.filter(related=original).count() == 1


@pytest.mark.django_db
def test_a_spend_posts_to_the_spenders_shard_of_the_platform_accounts(viewer, performer, settings):
    fund(viewer, tokens=10)
    settings.LEDGER_PLATFORM_SHARDS = viewer.pk + 1  # so the viewer's shard is viewer.pk, never row 0
    with transaction.atomic():
        transfer, _ = money.spend_tokens(
            kind=TransferKind.TIP, user=viewer, performer=performer, tokens=3, idempotency_key="k", source_type="t"
        )
    shard = f"#{viewer.pk}"
    assert moves(transfer) == {
        f"wallet:{viewer.pk}": -3,
        f"token_supply:tokens{shard}": 3,
        f"token_float:cents{shard}": -30,
        f"performer_pending:{performer.pk}": 18,
        f"platform_fees:cents{shard}": 12,
    }


@pytest.mark.django_db
def test_a_reversal_keeps_the_memo_it_is_given(viewer, performer):
    sale = purchase(viewer, performer, product="subscription", amount_cents=1000)
    original = book(money.book_sale, purchase=sale, now=NOW)
    reversal, created = book(
        money.reverse, original=original, kind=TransferKind.REFUND, idempotency_key="r", memo="goodwill"
    )
    assert created and reversal.memo == "goodwill"
