"""The compliance app's error type, in its own module so ``services`` and
``records`` both raise it without importing each other."""

from __future__ import annotations

from marquee.lib.errors import DomainError


class ComplianceError(DomainError):
    """A refused compliance action: ``code`` and a message for the user."""
