"""Integrity checks run on a schedule; each command stays the one place of its rule."""

from __future__ import annotations

import io
import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from marquee.ops.models import IntegrityCheck

logger = logging.getLogger(__name__)

CHECKS = ("ledger_check", "audit_verify")


def run_integrity_checks() -> dict[str, bool]:
    results = {}
    for name in CHECKS:
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(name, stdout=out, stderr=err)
            ok, detail = True, out.getvalue().strip()
        except CommandError as exc:
            ok, detail = False, (err.getvalue() + str(exc)).strip()
            logger.error("integrity check %s failed: %s", name, detail)
        IntegrityCheck.objects.update_or_create(
            name=name,
            defaults={
                "ok": ok,
                "detail": detail[: settings.INTEGRITY_CHECK_DETAIL_MAX_CHARS],
                "checked_at": timezone.now(),
            },
        )
        results[name] = ok
    return results
