"""Every answer of ``marquee.compliance.policy`` (mutation testing, issue 11),
compared whole — allowed, code, message, status and extras — so a changed
word, status or branch is noticed.  Jurisdiction rows are written here (the
seeded set is removed first), so these tests need no migrations; users are
plain objects where only their flags matter (``_marquee_age_verified`` is
the per-request memo ``selectors.is_age_verified`` reads first)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from marquee.compliance import policy, selectors
from marquee.compliance.models import Jurisdiction
from marquee.lib.decisions import ALLOW, Decision
from marquee.lib.geo import UNKNOWN, Location
from marquee.performers.models import Performer, RegionBlock
from tests.factories import PerformerFactory, UserFactory

TEXAS, CALIFORNIA, US, FRANCE = Location("US", "TX"), Location("US", "CA"), Location("US"), Location("FR")
NOT_FOUND = Decision(False, "not_found", "This room does not exist.", 404, {})


def person(pk=1, *, authenticated=True, adult=True, verified=None):
    return SimpleNamespace(pk=pk, is_authenticated=authenticated, is_adult=adult, _marquee_age_verified=verified)


def verification_required():
    return Decision(
        False,
        "age_verification_required",
        "Verify your age before continuing.",
        403,
        {"verify_url": reverse("age_verification")},
    )


@pytest.fixture
def rules(db):
    """Only the rules a test writes: FR blocked (with a reason), US-TX
    blocked without one, US-CA verify."""
    Jurisdiction.objects.all().delete()
    Jurisdiction.objects.create(country="FR", rule="blocked", reason="Not offered in France.")
    Jurisdiction.objects.create(country="US", subdivision="TX", rule="blocked")
    Jurisdiction.objects.create(country="US", subdivision="CA", rule="verify")
    selectors.forget_jurisdiction_rules()
    yield
    selectors.forget_jurisdiction_rules()


# --- region blocks -------------------------------------------------------------


@pytest.mark.django_db
def test_region_blocks_hide_a_performer_by_country_or_subdivision(performer):
    other = PerformerFactory(user=UserFactory(username="other"))
    RegionBlock.objects.create(performer=performer, country="US", subdivision="TX")
    RegionBlock.objects.create(performer=other, country="FR")

    def visible(location):
        return set(Performer.objects.filter(policy.region_block_q(location)).values_list("pk", flat=True))

    assert visible(UNKNOWN) == {performer.pk, other.pk}
    assert visible(TEXAS) == {other.pk}
    assert visible(CALIFORNIA) == {performer.pk, other.pk}
    assert visible(US) == {performer.pk, other.pk}  # a state block does not hide from the whole country
    assert visible(FRANCE) == {performer.pk}
    assert visible(Location("FR", "IDF")) == {performer.pk}  # a country block covers its subdivisions

    assert [policy.is_region_blocked(performer, loc) for loc in (UNKNOWN, TEXAS, CALIFORNIA, US, FRANCE)] == [
        False,
        True,
        False,
        False,
        False,
    ]
    assert policy.is_region_blocked(other, Location("FR", "IDF")) is True
    assert policy.is_region_blocked(other, UNKNOWN) is False


@pytest.mark.django_db
def test_who_may_view_a_performer(performer):
    owner = SimpleNamespace(pk=performer.user_id, is_authenticated=True)
    stranger = SimpleNamespace(pk=performer.user_id + 1000, is_authenticated=True)
    anonymous = SimpleNamespace(pk=None, is_authenticated=False)
    assert policy.can_view_performer(None, performer, TEXAS) == ALLOW
    assert policy.can_view_performer(stranger, performer, TEXAS) == ALLOW

    RegionBlock.objects.create(performer=performer, country="US", subdivision="TX")
    assert policy.can_view_performer(stranger, performer, TEXAS) == NOT_FOUND
    assert policy.can_view_performer(None, performer, TEXAS) == NOT_FOUND
    assert policy.can_view_performer(owner, performer, TEXAS) == ALLOW  # the performer still sees their own room
    assert policy.can_view_performer(stranger, performer, CALIFORNIA) == ALLOW

    performer.is_suspended = True
    assert policy.can_view_performer(stranger, performer, CALIFORNIA) == NOT_FOUND
    assert policy.can_view_performer(None, performer, CALIFORNIA) == NOT_FOUND
    assert policy.can_view_performer(owner, performer, CALIFORNIA) == ALLOW
    # An anonymous visitor whose (absent) pk happened to equal the owner's is not the owner.
    anonymous.pk = performer.user_id
    assert policy.can_view_performer(anonymous, performer, CALIFORNIA) == NOT_FOUND


# --- purchases, adult content -------------------------------------------------------


@pytest.mark.django_db
def test_who_may_buy(rules, settings):
    settings.AGE_VERIFICATION_BEFORE_PURCHASE = True
    assert policy.can_purchase(None, CALIFORNIA) == Decision(False, "not_authenticated", "Log in to buy.", 401, {})
    assert policy.can_purchase(person(authenticated=False), CALIFORNIA) == Decision(
        False, "not_authenticated", "Log in to buy.", 401, {}
    )
    assert policy.can_purchase(person(adult=False, verified=True), CALIFORNIA) == Decision(
        False, "age_restricted", "You must be 18 or older to buy anything on Marquee.", 403, {}
    )
    assert policy.can_purchase(person(verified=True), FRANCE) == Decision(
        False, "unavailable_for_legal_reasons", "Not offered in France.", 451, {"region": "FR"}
    )
    assert policy.can_purchase(person(verified=True), TEXAS) == Decision(
        False, "unavailable_for_legal_reasons", "Marquee is not available in your region.", 451, {"region": "US-TX"}
    )
    # Verification is asked for wherever the buyer is, even where browsing needs none.
    assert policy.can_purchase(person(verified=False), US) == verification_required()
    assert policy.can_purchase(person(verified=True), US) == ALLOW
    assert policy.can_purchase(person(verified=True), UNKNOWN) == ALLOW

    settings.AGE_VERIFICATION_BEFORE_PURCHASE = False
    assert policy.can_purchase(person(verified=False), US) == ALLOW
    assert policy.can_purchase(person(verified=False), TEXAS).code == "unavailable_for_legal_reasons"


@pytest.mark.django_db
def test_who_may_see_adult_content(rules, settings):
    settings.GEO_UNKNOWN_POLICY = "allow"
    unverified, verified = person(verified=False), person(verified=True)
    assert policy.can_view_adult_content(verified, FRANCE) == Decision(
        False, "unavailable_for_legal_reasons", "Not offered in France.", 451, {"region": "FR"}
    )
    assert policy.can_view_adult_content(verified, TEXAS).extra == {"region": "US-TX"}
    assert policy.can_view_adult_content(unverified, CALIFORNIA) == verification_required()
    assert policy.can_view_adult_content(verified, CALIFORNIA) == ALLOW
    assert policy.can_view_adult_content(unverified, US) == ALLOW
    assert policy.can_view_adult_content(unverified, UNKNOWN) == ALLOW
    settings.GEO_UNKNOWN_POLICY = "verify"
    assert policy.can_view_adult_content(unverified, UNKNOWN) == verification_required()
    assert policy.can_view_adult_content(None, UNKNOWN) == verification_required()
    assert policy.can_view_adult_content(verified, UNKNOWN) == ALLOW


def test_the_age_gate(settings):
    settings.AGE_GATE_ENABLED = True
    assert policy.passed_age_gate(None, False) is False
    assert policy.passed_age_gate(None, True) is True
    assert policy.passed_age_gate(person(authenticated=False), False) is False
    assert policy.passed_age_gate(person(authenticated=False, adult=True), "yes") is True
    assert policy.passed_age_gate(person(adult=True), False) is True
    assert policy.passed_age_gate(person(adult=False), False) is False
    assert policy.passed_age_gate(person(adult=False), 1) is True
    settings.AGE_GATE_ENABLED = False
    assert policy.passed_age_gate(None, False) is True


# --- performers ---------------------------------------------------------------------


def test_who_may_earn():
    assert policy.can_earn(SimpleNamespace(is_suspended=False, is_verified=True)) == ALLOW
    assert policy.can_earn(SimpleNamespace(is_suspended=True, is_verified=True)) == Decision(
        False, "performer_suspended", "This performer account is suspended.", 403, {}
    )
    assert policy.can_earn(SimpleNamespace(is_suspended=True, is_verified=False)).code == "performer_suspended"
    assert policy.can_earn(SimpleNamespace(is_suspended=False, is_verified=False)) == Decision(
        False,
        "performer_not_verified",
        "This performer's identity verification is not approved yet.",
        403,
        {},
    )


@pytest.mark.django_db
def test_who_may_stream(performer):
    assert policy.can_stream(performer) == ALLOW
    without_2fa = PerformerFactory(user=UserFactory(username="no2fa"))
    assert policy.can_stream(without_2fa) == Decision(
        False, "two_factor_required", "Turn on two-factor authentication before going live.", 403, {}
    )
    unverified = SimpleNamespace(is_suspended=False, is_verified=False, user=performer.user)
    assert policy.can_stream(unverified) == Decision(
        False, "not_verified", "Identity verification must be approved before going live.", 403, {}
    )
    suspended = SimpleNamespace(is_suspended=True, is_verified=True, user=performer.user)
    assert policy.can_stream(suspended) == Decision(False, "suspended", "This performer account is suspended.", 403, {})
    assert policy.can_stream(SimpleNamespace(is_suspended=True, is_verified=False, user=None)).code == "suspended"
