"""GET /healthz: each component's status; 503 when the database is down."""

from __future__ import annotations

import asyncio
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


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


async def _round_trip(layer) -> dict:
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "healthz"})
    return await asyncio.wait_for(layer.receive(channel), timeout=2)


def _check_channel_layer() -> dict:
    layer = get_channel_layer()
    if layer is None:
        return {"status": "down", "error": "not configured"}
    try:
        message = async_to_sync(_round_trip)(layer)
    except Exception as exc:
        return {"status": "down", "error": exc.__class__.__name__}
    return {"status": "ok" if message.get("type") == "healthz" else "down", "backend": layer.__class__.__name__}


@never_cache
def healthz(request):
    started = time.monotonic()
    components = {"database": _check_database(), "cache": _check_cache(), "channel_layer": _check_channel_layer()}
    healthy = components["database"]["status"] == "ok"
    body = {
        "status": "ok"
        if all(c["status"] == "ok" for c in components.values())
        else ("degraded" if healthy else "down"),
        "components": components,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if healthy else 503)
