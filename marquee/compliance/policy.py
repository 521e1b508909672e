"""The compliance questions every other app asks, one function each:
may this person see this performer, buy, stream.  Pages, API, playback-URL
signing, chat and recommendations all call these, never their own copies."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from marquee.lib.decisions import ALLOW, Decision, deny
from marquee.lib.geo import Location


def region_block_q(location: Location) -> Q:
    """Performers visible from ``location``: not region-blocked by them."""
    from marquee.performers.models import RegionBlock

    if not location.known:
        return Q()
    blocked = RegionBlock.objects.filter(performer=OuterRef("pk"), country=location.country).filter(
        Q(subdivision="") | Q(subdivision=location.subdivision or "")
    )
    return ~Q(Exists(blocked))


def is_region_blocked(performer, location: Location) -> bool:
    if not location.known:
        return False
    return (
        performer.region_blocks.filter(country=location.country)
        .filter(Q(subdivision="") | Q(subdivision=location.subdivision or ""))
        .exists()
    )


def may_announce_to_unlocated(performer) -> bool:
    """Whether ``performer`` may be named to someone whose location is not
    known (a go-live notification built by the worker, with no request):
    never while they block a region (by hand or by travel mode), since that
    person may be there."""
    return not performer.region_blocks.exists()


def can_view_performer(viewer, performer, location: Location) -> Decision:
    """Whether ``viewer`` (maybe anonymous) located at ``location`` may see
    this performer at all (room, profile, schedule, thumbnails, chat)."""
    if viewer is not None and viewer.is_authenticated and viewer.pk == performer.user_id:
        return ALLOW
    if performer.is_suspended:
        return deny("not_found", "This room does not exist.", 404)
    if is_region_blocked(performer, location):
        # Hidden, not refused: a blocked region must not learn the room exists.
        return deny("not_found", "This room does not exist.", 404)
    return ALLOW


def _blocked_decision(location: Location) -> Decision | None:
    from marquee.compliance import selectors

    rule = selectors.is_blocked(location)
    if rule is None:
        return None
    message = rule.reason or "Marquee is not available in your region."
    return deny("unavailable_for_legal_reasons", message, 451, region=rule.region)


def _verification_required() -> Decision:
    return deny(
        "age_verification_required",
        "Verify your age before continuing.",
        403,
        verify_url=reverse("age_verification"),
    )


def can_purchase(user, location: Location) -> Decision:
    """Before any purchase: logged in, adult, not in a blocked region, and an
    age verification on file (always, wherever the buyer is)."""
    from marquee.compliance import selectors

    if user is None or not user.is_authenticated:
        return deny("not_authenticated", "Log in to buy.", 401)
    if not user.is_adult:
        return deny("age_restricted", "You must be 18 or older to buy anything on Marquee.", 403)
    blocked = _blocked_decision(location)
    if blocked is not None:
        return blocked
    if settings.AGE_VERIFICATION_BEFORE_PURCHASE and not selectors.is_age_verified(user):
        return _verification_required()
    return ALLOW


def can_earn(performer) -> Decision:
    """May this performer sell, be tipped, be paid out (and be shown live to
    anyone but themselves): identity verified and not suspended.  The one
    rule behind every sale, tip and payout."""
    if performer.is_suspended:
        return deny("performer_suspended", "This performer account is suspended.", 403)
    if not performer.is_verified:
        return deny("performer_not_verified", "This performer's identity verification is not approved yet.", 403)
    return ALLOW


def passed_age_gate(user, declared: bool) -> bool:
    """The 18+ gate: an adult account counts; an anonymous visitor (page or
    API) must have declared it in their session (``declared``)."""
    if not settings.AGE_GATE_ENABLED:
        return True
    if user is not None and user.is_authenticated and user.is_adult:
        return True
    return bool(declared)


def can_stream(performer) -> Decision:
    from marquee.accounts.selectors import has_two_factor

    if performer.is_suspended:
        return deny("suspended", "This performer account is suspended.", 403)
    if not performer.is_verified:
        return deny("not_verified", "Identity verification must be approved before going live.", 403)
    if not has_two_factor(performer.user):
        return deny("two_factor_required", "Turn on two-factor authentication before going live.", 403)
    return ALLOW


def can_view_adult_content(viewer, location: Location) -> Decision:
    """Jurisdiction rules: a blocked region gets 451; a region that requires
    age verification (or an unknown location when GEO_UNKNOWN_POLICY=verify)
    needs a current verification first."""
    from marquee.compliance import selectors

    blocked = _blocked_decision(location)
    if blocked is not None:
        return blocked
    if selectors.requires_age_verification(location) and not selectors.is_age_verified(viewer):
        return _verification_required()
    return ALLOW
