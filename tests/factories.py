"""factory_boy factories shared by every app's tests: one per model the tests
build, with the smallest valid defaults (override what the test is about)."""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from marquee.accounts.models import User
from marquee.billing.models import Payout, Product, Purchase, Subscription
from marquee.compliance.models import AgeVerification, Jurisdiction
from marquee.content.models import MediaSet
from marquee.performers.models import Follow, Performer, RoomModerator, TipMenuItem
from marquee.shows.models import Show

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    date_of_birth = datetime.date(1990, 5, 17)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class PerformerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Performer

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda o: o.user.username.title())
    verification_status = Performer.Verification.VERIFIED


class ShowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Show

    performer = factory.SubFactory(PerformerFactory)
    title = factory.Sequence(lambda n: f"Show {n}")
    kind = "public"
    scheduled_start = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=1))


class FollowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Follow

    user = factory.SubFactory(UserFactory)
    performer = factory.SubFactory(PerformerFactory)


class TipMenuItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TipMenuItem

    performer = factory.SubFactory(PerformerFactory)
    label = factory.Sequence(lambda n: f"Menu item {n}")
    tokens = 10


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A pending sandbox purchase of the small token pack (not paid: paying
    goes through the money services, which post the ledger transfer)."""

    class Meta:
        model = Purchase

    user = factory.SubFactory(UserFactory)
    provider = "sandbox"
    product = Product.TOKENS
    # A token pack by default; other products carry no pack and no tokens.
    pack = factory.LazyAttribute(lambda o: "small" if o.product == Product.TOKENS else "")
    tokens = factory.LazyAttribute(lambda o: 100 if o.product == Product.TOKENS else 0)
    amount_cents = 999
    description = factory.LazyAttribute(lambda o: f"{o.tokens} tokens" if o.product == Product.TOKENS else o.product)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    performer = factory.SubFactory(PerformerFactory)
    price_cents = 999
    provider = "sandbox"
    provider_subscription_id = factory.Sequence(lambda n: f"sub_test_{n}")
    current_period_end = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


class PayoutFactory(factory.django.DjangoModelFactory):
    """A requested payout row only (requesting one through the services also
    moves the ledger)."""

    class Meta:
        model = Payout

    performer = factory.SubFactory(PerformerFactory)
    amount_cents = 5000


class AgeVerificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgeVerification

    user = factory.SubFactory(UserFactory)
    provider = "sandbox"
    method = "document"

    class Params:
        approved = factory.Trait(status=AgeVerification.Status.APPROVED, decided_at=factory.LazyFunction(timezone.now))
        declined = factory.Trait(status=AgeVerification.Status.DECLINED, decided_at=factory.LazyFunction(timezone.now))


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jurisdiction

    country = "DE"
    rule = Jurisdiction.Rule.BLOCKED


class MediaSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MediaSet

    performer = factory.SubFactory(PerformerFactory)
    title = factory.Sequence(lambda n: f"Set {n}")


class ScheduleRuleFactory(factory.django.DjangoModelFactory):
    """A weekly rule (Tuesdays and Fridays, 20:00 UTC) starting today."""

    class Meta:
        model = "schedule.ScheduleRule"

    performer = factory.SubFactory(PerformerFactory)
    title = factory.Sequence(lambda n: f"Weekly show {n}")
    rrule = "FREQ=WEEKLY;BYDAY=TU,FR"
    start_time = datetime.time(20, 0)
    starts_on = factory.LazyFunction(timezone.localdate)


def enable_totp(user, secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") -> str:
    """Enrol TOTP for ``user``; returns the base32 secret (for pyotp)."""
    TOTP.activate(user, secret)
    return secret


def appoint_moderator(performer, user):
    return RoomModerator.objects.create(performer=performer, user=user)


def reauthenticate(client, password: str = PASSWORD) -> None:
    """Enter the password again, as sensitive actions (payouts, account
    changes) require a recent reauthentication."""
    assert client.post("/accounts/reauthenticate/", {"password": password}).status_code == 302
