"""Every shared factory builds a row the database accepts (its CHECK and
unique constraints), twice in a row, with nothing posted to the ledger."""

from __future__ import annotations

import pytest

from marquee.ledger.models import Transfer
from tests import factories

ALL = [
    factories.UserFactory,
    factories.PerformerFactory,
    factories.ShowFactory,
    factories.FollowFactory,
    factories.TipMenuItemFactory,
    factories.PurchaseFactory,
    factories.SubscriptionFactory,
    factories.PayoutFactory,
    factories.AgeVerificationFactory,
    factories.MediaSetFactory,
    factories.ScheduleRuleFactory,
]


@pytest.mark.django_db
@pytest.mark.parametrize("factory", ALL, ids=lambda f: f.__name__)
def test_factory_rows_satisfy_the_database(factory):
    first, second = factory(), factory()
    model = factory._meta.get_model_class()
    assert model.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert Transfer.objects.count() == 0


@pytest.mark.django_db
def test_purchase_factory_makes_products_other_than_tokens_without_tokens():
    show = factories.ShowFactory(kind="premium", price_cents=500)
    ticket = factories.PurchaseFactory(product="ticket", show=show, performer=show.performer, amount_cents=500)
    assert (ticket.pack, ticket.tokens) == ("", 0)
    assert (factories.PurchaseFactory().pack, factories.PurchaseFactory().tokens) == ("small", 100)


@pytest.mark.django_db
def test_age_verification_traits_set_a_decision():
    approved = factories.AgeVerificationFactory(approved=True)
    assert approved.status == "approved" and approved.decided_at is not None
    assert factories.AgeVerificationFactory().status == "pending"
