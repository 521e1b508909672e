"""Races on PostgreSQL (real concurrent connections): the same content set
bought at the same moment, the same tip key sent twice at once, a refund and
a chargeback of the same sale."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection, connections

from marquee.billing.models import Tip
from marquee.content import services as content
from marquee.content.models import ContentPurchase, MediaSet
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Transfer
from marquee.ledger.services import reverse_transfer
from marquee.lib.geo import UNKNOWN
from tests.factories import PerformerFactory, ShowFactory, UserFactory
from tests.support.billing import fund, pending_purchase, tip

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL connections"),
    pytest.mark.django_db(transaction=True),
]


def run_together(n, work):
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # returned: the test asserts there are none
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(worker, range(n)))


def test_the_same_set_bought_at_the_same_moment_is_bought_once():
    performer = PerformerFactory()
    media_set = content.create_set(performer=performer, title="Garden", free_for_subscribers=False, price_tokens=40)
    MediaSet.objects.filter(pk=media_set.pk).update(is_published=True)
    media_set.refresh_from_db()
    buyer = UserFactory()
    fund(buyer, 100)

    results = run_together(8, lambda i: content.purchase_set(user=buyer, media_set=media_set, location=UNKNOWN))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert ContentPurchase.objects.count() == 1
    assert Transfer.objects.filter(kind="content").count() == 1
    assert ledger.wallet_balance(buyer) == 60
    call_command("ledger_check")


def test_a_refund_and_a_chargeback_racing_reverse_once():
    performer = PerformerFactory()
    show = ShowFactory(performer=performer, kind="premium", price_cents=1000, status="live")
    buyer = UserFactory()
    purchase = pending_purchase(
        buyer, product="ticket", show=show, performer=performer, tokens=0, pack="", amount_cents=1000
    )
    from marquee.billing import services

    services.sandbox_complete_checkout(purchase=purchase, pay=True)
    original = Transfer.objects.get(idempotency_key=f"purchase:{purchase.pk}")

    def reverse(i):
        kind = "refund" if i % 2 else "chargeback"
        transfer, _ = reverse_transfer(original=original, kind=kind, idempotency_key=f"{kind}:race:{i}")
        return transfer

    results = run_together(6, reverse)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert Transfer.objects.filter(related=original, kind__in=["refund", "chargeback"]).count() == 1
    assert ledger.performer_balances(performer)["performer_pending"] == 0
    call_command("ledger_check")


def test_the_same_tip_key_sent_at_the_same_moment_tips_once():
    """The transfer's insert waits for a concurrent one with the same key and
    then returns the first (``ON CONFLICT DO NOTHING``): one tip, one debit."""
    performer = PerformerFactory()
    viewer = UserFactory()
    fund(viewer, 100)

    results = run_together(8, lambda i: tip(viewer, performer, 7, key="same-moment"))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1
    assert Tip.objects.count() == 1
    assert Transfer.objects.filter(kind="tip").count() == 1
    assert ledger.wallet_balance(viewer) == 93
    call_command("ledger_check")
