"""Persona fixtures (viewer, performer, moderator, outsider, staff) for every test module."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import PerformerFactory, UserFactory, appoint_moderator, enable_totp

# Shared fixtures that are not personas: the Playwright browser.
pytest_plugins = ["tests.browser"]


@pytest.fixture(autouse=True)
def _clean_cache():
    from marquee.ledger.services import forget_accounts
    from marquee.recommendations import tracking

    forget_accounts()  # account ids cached by a committed test transaction must not outlive its data
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
    """A superuser with TOTP enrolled (the admin refuses staff without 2FA)."""
    user = UserFactory(username="staff", is_staff=True, is_superuser=True)
    user.totp_secret = enable_totp(user)
    return user


@pytest.fixture
def room_events(monkeypatch):
    """Room events as they leave for the sockets (after commit), as
    ``(room, event)`` pairs; nothing is published."""
    sent = []
    monkeypatch.setattr("marquee.lib.realtime.publish_room_event", lambda room, event: sent.append((room, event)))
    return sent


@pytest.fixture
def user_events(monkeypatch):
    """Events for one user's sockets as they leave (after commit), as ``(user_id, event)`` pairs."""
    sent = []
    monkeypatch.setattr("marquee.lib.realtime.publish_user_event", lambda user_id, event: sent.append((user_id, event)))
    return sent


@pytest.fixture
def age_ok_client(client):
    """An anonymous client that has passed the age gate."""
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    return client


_DB_FIXTURES = ("db", "transactional_db", "django_db_reset_sequences", "live_server")


@pytest.fixture(autouse=True)
def _live_server_takes_database_turns(request, monkeypatch):
    """SQLite in memory: the live server's threads share this thread's
    connection, so requests and the test's statements take turns
    (tests/support/db_turns.py).  Set up before the database fixtures, so the
    turns still hold while the database is flushed after the test."""
    from django.conf import settings

    if "live_server" not in request.fixturenames or settings.IS_POSTGRES:
        yield
        return
    from tests.support.db_turns import taking_turns

    with taking_turns(monkeypatch):
        yield


@pytest.fixture(autouse=True)
def _ledger_invariants_hold_after_every_test(request):
    """Every test that touches the database ends with a clean ledger
    (the same checks as ``manage.py ledger_check``).  Tests that break the
    database or the ledger on purpose opt out with ``@pytest.mark.skip_ledger_check``."""
    uses_db = request.node.get_closest_marker("django_db") or any(name in request.fixturenames for name in _DB_FIXTURES)
    if not uses_db or request.node.get_closest_marker("skip_ledger_check"):
        yield
        return
    # Set the database up first so this check runs before it is rolled back.
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        transactional = True
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from marquee.ledger.selectors import check_invariants

    report = check_invariants()
    assert report.ok, "ledger invariants broken after the test:\n" + "\n".join(report.problems)
