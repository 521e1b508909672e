"""API rate limits keyed by the real client address.

DRF's own ``get_ident`` believes any ``X-Forwarded-For`` when NUM_PROXIES is
unset, so a client could dodge per-IP limits by inventing the header; these
use ``request.client_ip`` (the TRUSTED_PROXIES rule) instead."""

from __future__ import annotations

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


def _client_ip(request) -> str:
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "client_ip", "") or django_request.META.get("REMOTE_ADDR", "")


class AnonIPThrottle(AnonRateThrottle):
    """Anonymous requests, per client IP (scope ``anon``)."""

    def get_ident(self, request):
        return _client_ip(request)


class UserThrottle(UserRateThrottle):
    """Authenticated requests, per user (scope ``user``); anonymous per IP."""

    def get_ident(self, request):
        return _client_ip(request)


class IPThrottle(SimpleRateThrottle):
    """Everyone, per client IP (scope ``ip``): caps one address running many accounts."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": _client_ip(request)}
