"""Server-side age gate for anonymous visitors."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect

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
    "/static/",
    "/admin/",
    "/legal/",
    "/checkout/",
    "/favicon.ico",
)


def passed_age_gate(request) -> bool:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return bool(request.session.get(AGE_GATE_SESSION_KEY))


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
