"""JWT authentication for the JSON API (kept apart from the error handler:
DRF imports this module while ``rest_framework.views`` is still loading)."""

from __future__ import annotations

from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication


class JWTAuthentication(JWTTokenAuthentication):
    """allauth's access-token check (stateful: a revoked session kills it)."""

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no or a bad token is sent.
        return 'Bearer realm="api"'
