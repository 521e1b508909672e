"""Server-side age gate for anonymous visitors."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from marquee.lib.http import json_error

AGE_GATE_SESSION_KEY = "age_gate_passed"
# Paths that must work before the gate: auth, API (its own auth), machine
# endpoints, static files and the gate itself.
_EXEMPT_PREFIXES = (
    "/age-gate/",
    "/accounts/",
    "/_allauth/",
    "/api/",
    "/webhooks/",
    "/media/hooks/",
    "/healthz",
    "/metrics",
    "/static/",
    "/admin/",
    "/legal/",
    "/checkout/",
    "/favicon.ico",
)


def declared_adult(request) -> bool:
    """Whether this browser session clicked through the 18+ gate."""
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(AGE_GATE_SESSION_KEY))


def passed_age_gate(request) -> bool:
    from marquee.compliance import policy

    return policy.passed_age_gate(getattr(request, "user", None), declared_adult(request))


class AgeGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.AGE_GATE_ENABLED
            and request.method in ("GET", "HEAD")
            and not request.path.startswith(_EXEMPT_PREFIXES)
            and not passed_age_gate(request)
        ):
            return HttpResponseRedirect("/age-gate/?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)


# Paths that stay reachable from a blocked region: machine endpoints, static
# files, the legal pages that explain the block, and the (staff-only) admin.
_GEO_EXEMPT_PREFIXES = (
    "/static/",
    "/healthz",
    "/metrics",
    "/webhooks/",
    "/media/hooks/",
    "/legal/",
    "/admin/",
    "/favicon.ico",
)
# Reachable before age verification: logging in (whole allauth trees) and
# verifying itself.  Everything else is named exactly (resolved URL names, not
# path prefixes): "/api/v1/me" as a prefix also opened /api/v1/me/follows/...
_VERIFY_EXEMPT_PREFIXES = (*_GEO_EXEMPT_PREFIXES, "/accounts/", "/_allauth/")
_VERIFY_EXEMPT_URL_NAMES = frozenset(
    {
        "age_gate",
        "age_verification",
        "age_verification_start",
        "age_document",
        "performer_verification",
        "api_me",
        "api_age_verification",
        "api_schema",
        "api_docs",
    }
)


def _exempt_from_verification(request) -> bool:
    if request.path.startswith(_VERIFY_EXEMPT_PREFIXES):
        return True
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name in _VERIFY_EXEMPT_URL_NAMES


def _is_api(request) -> bool:
    return request.path.startswith(("/api/", "/_allauth/"))


def _request_user(request):
    """The session user, or for API calls the bearer of a valid access token
    (DRF authenticates only inside the view, after this middleware)."""
    user = getattr(request, "user", None)
    if (user is None or not user.is_authenticated) and _is_api(request) and "HTTP_AUTHORIZATION" in request.META:
        from rest_framework.exceptions import AuthenticationFailed

        from marquee.lib.api import JWTAuthentication

        try:
            result = JWTAuthentication().authenticate(request)
        except AuthenticationFailed:
            result = None  # the view answers 401 itself
        if result is not None:
            return result[0]
    return user


class JurisdictionMiddleware:
    """Platform jurisdiction rules for every request: 451 (page or JSON) in
    blocked regions, and the age-verification requirement where the law asks
    for it before any adult content.  Same decision as
    ``policy.can_view_adult_content``, which the room/player also ask."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from marquee.compliance import policy, services
        from marquee.lib.geo import location_for_request

        if request.path.startswith(_GEO_EXEMPT_PREFIXES):
            return self.get_response(request)
        location = location_for_request(request)
        decision = policy.can_view_adult_content(_request_user(request), location)
        if decision or (decision.status != 451 and _exempt_from_verification(request)):
            return self.get_response(request)
        if decision.status == 451:
            services.record_geo_block(request=request, location=location, region=decision.extra.get("region", ""))
            if _is_api(request):
                return json_error(decision.code, decision.message, 451)
            return render(
                request, "compliance/blocked.html", {"message": decision.message, "location": location}, status=451
            )
        if _is_api(request) or request.method not in ("GET", "HEAD"):
            return JsonResponse(
                {"error": {"code": decision.code, "message": decision.message, **decision.extra}},
                status=decision.status,
            )
        return HttpResponseRedirect(decision.extra["verify_url"] + "?" + urlencode({"next": request.get_full_path()}))
