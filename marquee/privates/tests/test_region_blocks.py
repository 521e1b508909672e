"""A region block added while a private runs (by hand or by travel mode)
ends the sessions of viewers who booked from that region: charged only the
periods begun, the rest of each hold voided (issue 13, "Bad input and races")."""

from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.compliance.tests.conftest import geoip_db  # noqa: F401 (fixture)
from marquee.ledger import selectors as ledger
from marquee.ledger.models import Hold
from marquee.lib.geo import Location
from marquee.performers import services as performer_services
from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.tests.conftest import at, fund
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Status, Reason = PrivateShow.Status, PrivateShow.EndReason
FRANCE, TEXAS, CALIFORNIA = Location("FR"), Location("US", "TX"), Location("US", "CA")


@pytest.fixture
def long_periods(settings):
    """End-to-end tests run on the real clock: one period covers the whole test."""
    settings.PRIVATE_BILLING_SECONDS = 3600


def block(performer, region, capture):
    with capture(execute=True):
        performer_services.add_region_block(performer=performer, region=region)


def test_blocking_the_payers_region_ends_the_private_and_its_spies(
    long_periods, room, viewer, django_capture_on_commit_callbacks
):
    spy = UserFactory(username="spy")
    fund(viewer, 100)
    fund(spy, 100)
    with django_capture_on_commit_callbacks(execute=True):
        session = services.request_private(user=viewer, performer=room, location=FRANCE)
        services.accept(actor=room.user, session=session)
        watcher = services.join_spy(user=spy, performer=room, location=CALIFORNIA)
    assert ledger.held_tokens(viewer) == 30 - 10  # minimum 3 × 10 held, period 1 posted
    block(room, "FR", django_capture_on_commit_callbacks)
    session.refresh_from_db()
    watcher.refresh_from_db()
    assert (session.status, session.end_reason) == (Status.ENDED, Reason.REGION_BLOCKED)
    # Only the period begun is paid (not the minimum of 3): the rest is voided.
    assert session.periods_charged == 1
    assert ledger.wallet_balance(viewer) == 90 and ledger.held_tokens(viewer) == 0
    assert Hold.objects.get(pk=session.hold_id).status == Hold.Status.VOIDED
    assert (watcher.status, watcher.end_reason) == (Status.ENDED, Reason.PARENT_ENDED)
    assert ledger.wallet_balance(spy) == 100 - 4 and ledger.held_tokens(spy) == 0
    assert AuditEvent.objects.filter(action="privates.ended", details__reason="region_blocked").count() == 1


def test_a_spy_in_the_blocked_region_leaves_and_the_private_goes_on(
    long_periods, room, viewer, django_capture_on_commit_callbacks
):
    spy = UserFactory(username="spy")
    fund(viewer, 100)
    fund(spy, 100)
    with django_capture_on_commit_callbacks(execute=True):
        session = services.request_private(user=viewer, performer=room, location=CALIFORNIA)
        services.accept(actor=room.user, session=session)
        watcher = services.join_spy(user=spy, performer=room, location=TEXAS)
    block(room, "US-TX", django_capture_on_commit_callbacks)
    session.refresh_from_db()
    watcher.refresh_from_db()
    assert (watcher.status, watcher.end_reason, watcher.periods_charged) == (Status.ENDED, Reason.REGION_BLOCKED, 1)
    assert ledger.held_tokens(spy) == 0 and ledger.wallet_balance(spy) == 96
    assert session.status == Status.ACTIVE  # California is not Texas


def test_a_waiting_request_from_the_region_is_cancelled_and_fully_voided(
    long_periods, room, viewer, outsider, django_capture_on_commit_callbacks
):
    fund(viewer, 100)
    fund(outsider, 100)
    with django_capture_on_commit_callbacks(execute=True):
        blocked = services.request_private(user=viewer, performer=room, location=FRANCE)
        unknown = services.request_private(user=outsider, performer=room, location=Location())
    block(room, "FR", django_capture_on_commit_callbacks)
    blocked.refresh_from_db()
    unknown.refresh_from_db()
    assert (blocked.status, blocked.end_reason) == (Status.CANCELLED, Reason.REGION_BLOCKED)
    assert ledger.wallet_balance(viewer) == 100 and ledger.held_tokens(viewer) == 0
    assert unknown.status == Status.REQUESTED and ledger.held_tokens(outsider) == 30


def test_a_group_pledge_from_the_region_ends(long_periods, room, viewer, django_capture_on_commit_callbacks):
    other = UserFactory(username="other")
    fund(viewer, 100)
    fund(other, 100)
    with django_capture_on_commit_callbacks(execute=True):
        group = services.announce_group_show(
            actor=room.user, performer=room, rate_tokens=5, goal_viewers=2, window_minutes=10
        )
        mine = services.join_group_show(user=viewer, group=group, location=FRANCE)
        theirs = services.join_group_show(user=other, group=group, location=CALIFORNIA)
    block(room, "FR", django_capture_on_commit_callbacks)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.end_reason, mine.periods_charged) == (Status.ENDED, Reason.REGION_BLOCKED, 1)
    assert ledger.held_tokens(viewer) == 0 and ledger.wallet_balance(viewer) == 95
    assert theirs.status == Status.ACTIVE


def test_the_service_charges_only_the_periods_begun(room, viewer):
    """On a fake clock: blocked 130 s in, 3 periods begun (the minimum is 3
    anyway); blocked 70 s in would be 2, under the minimum, and pays 2."""
    fund(viewer, 100)
    session = services.request_private(user=viewer, performer=room, now=at(0), location=FRANCE)
    services.accept(actor=room.user, session=session, now=at(0))
    performer_services.add_region_block(performer=room, region="FR")
    assert services.end_region_blocked(performer=room, now=at(70)) == 1
    session.refresh_from_db()
    assert (session.status, session.periods_charged) == (Status.ENDED, 2)
    assert ledger.wallet_balance(viewer) == 80 and ledger.held_tokens(viewer) == 0
    assert services.end_region_blocked(performer=room, now=at(80)) == 0  # once
    assert ledger.wallet_balance(viewer) == 80


def test_booked_over_the_api_from_germany_then_germany_blocked(
    long_periods,
    room,
    geoip_db,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """The whole path: the location comes from the booking request's address."""
    from django.test import Client

    from tests.support.compliance import GERMANY_V4, approve_age

    def booked_from(ip, name):
        user = UserFactory(username=name)
        approve_age(user)
        fund(user, 100)
        client = Client(REMOTE_ADDR=ip)
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/rooms/performer/private/", {"kind": "private"}, content_type="application/json"
            )
        assert response.status_code == 201, response.content
        return PrivateShow.objects.get(pk=response.json()["id"])

    german = booked_from(GERMANY_V4, "german")
    with django_capture_on_commit_callbacks(execute=True):
        services.accept(actor=room.user, session=german)
    block(room, "US-TX", django_capture_on_commit_callbacks)  # elsewhere: nothing ends
    german.refresh_from_db()
    assert german.status == Status.ACTIVE
    block(room, "DE", django_capture_on_commit_callbacks)
    german.refresh_from_db()
    assert german.status == Status.ENDED and ledger.held_tokens(german.payer) == 0
    assert (german.end_reason, german.periods_charged) == (Reason.REGION_BLOCKED, 1)
    assert ledger.held_tokens(german.payer) == 0 and ledger.wallet_balance(german.payer) == 90
