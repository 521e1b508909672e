"""Kept for tests not yet moved to tests/support (the performers dashboard
tests): the helper itself is tests.support.compliance.approve_age."""

from __future__ import annotations

from tests.support.compliance import approve_age

__all__ = ["approve_age"]
