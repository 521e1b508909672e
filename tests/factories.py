"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.utils import timezone

from marquee.accounts.models import User
from marquee.performers.models import Performer, RoomModerator
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
