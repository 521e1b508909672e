"""GET /healthz: each component's status; 503 when the database or the
real-time publisher (the chat Redis, when REDIS_URL is set) is down."""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from marquee.lib import realtime


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok", "vendor": connection.vendor}


def _check_cache() -> dict:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", 5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok" if ok else "down"}


def _check_realtime() -> dict:
    # What chat actually uses: every room event is published here (no channel layer).
    try:
        return {"status": "ok", "backend": realtime.backend().ping()}
    except Exception as exc:
        return {"status": "down", "error": exc.__class__.__name__}


@never_cache
def healthz(request):
    started = time.monotonic()
    components = {"database": _check_database(), "cache": _check_cache(), "realtime": _check_realtime()}
    healthy = components["database"]["status"] == "ok" and components["realtime"]["status"] == "ok"
    body = {
        "status": "ok"
        if all(c["status"] == "ok" for c in components.values())
        else ("degraded" if healthy else "down"),
        "components": components,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if healthy else 503)
