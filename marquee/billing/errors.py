"""The money capability's refusal: a ``DomainError`` (same signature), so the
API handler and the page middleware answer it with its code and 4xx."""

from __future__ import annotations

from marquee.lib.errors import DomainError


class BillingError(DomainError):
    """A refused money request: ``code`` and ``message`` for the user, ``status`` for HTTP."""
