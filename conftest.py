"""Persona fixtures (viewer, performer, moderator, outsider, staff) for every test module."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import PerformerFactory, UserFactory, appoint_moderator, enable_totp


@pytest.fixture(autouse=True)
def _clean_cache():
    from marquee.recommendations import tracking

    cache.clear()
    tracking.discard()  # interactions buffered by an earlier test must not leak into this one
    yield
    cache.clear()


@pytest.fixture
def viewer(db):
    return UserFactory(username="viewer")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def performer(db):
    """A verified performer with TOTP enrolled (may go live)."""
    performer = PerformerFactory(user=UserFactory(username="performer"), display_name="Performer One")
    performer.totp_secret = enable_totp(performer.user)
    return performer


@pytest.fixture
def moderator(db, performer):
    user = UserFactory(username="moderator")
    appoint_moderator(performer, user)
    return user


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def age_ok_client(client):
    """An anonymous client that has passed the age gate."""
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    return client
