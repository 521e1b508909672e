"""API rate limits keyed by the real client address.

DRF's own ``get_ident`` believes any ``X-Forwarded-For`` when NUM_PROXIES is
unset, so a client could dodge per-IP limits by inventing the header; these
use ``request.client_ip`` (the TRUSTED_PROXIES rule) instead.

When the cache (Redis) is unreachable these general limits fail OPEN: the
request goes through and a warning is logged, so a Redis outage does not take
the API down with it (docs/operations.md "Redis restarts").  Login,
second-factor and password-reset limits (allauth) fail CLOSED instead."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)


class _FailOpen:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("rate-limit store unreachable: %s limit not applied", self.scope)
            return True


def _client_ip(request) -> str:
    django_request = getattr(request, "_request", request)
    return getattr(django_request, "client_ip", "") or django_request.META.get("REMOTE_ADDR", "")


class AnonIPThrottle(_FailOpen, AnonRateThrottle):
    """Anonymous requests, per client IP (scope ``anon``)."""

    def get_ident(self, request):
        return _client_ip(request)


class UserThrottle(_FailOpen, UserRateThrottle):
    """Authenticated requests, per user (scope ``user``); anonymous per IP."""

    def get_ident(self, request):
        return _client_ip(request)


class IPThrottle(_FailOpen, SimpleRateThrottle):
    """Everyone, per client IP (scope ``ip``): caps one address running many accounts."""

    scope = "ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": _client_ip(request)}
