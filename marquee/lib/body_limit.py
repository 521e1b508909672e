"""Request bodies capped before Django reads them.

Django's ASGI handler reads the whole body (spooling anything over
FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file) before any middleware or
view runs, and DATA_UPLOAD_MAX_MEMORY_SIZE does not cover multipart file
parts.  So a caller reaching uvicorn directly could make the server write an
unbounded body to disk, signed in or not.  This ASGI wrapper answers 413 as
soon as the declared Content-Length, or the bytes actually received (chunked
bodies), pass the limit of the path: ``settings.REQUEST_BODY_LIMITS`` (the few
upload paths, each with the limit of what it accepts) or
``settings.MAX_REQUEST_BODY_BYTES`` for every other path.
"""

from __future__ import annotations

import json
import re
from functools import cache

from django.conf import settings


@cache
def _rules(rules: tuple[tuple[str, int], ...]) -> tuple[tuple[re.Pattern, int], ...]:
    return tuple((re.compile(pattern), limit) for pattern, limit in rules)


def body_limit_for(path: str) -> int:
    """The largest body, in bytes, that a request to ``path`` may send."""
    for pattern, limit in _rules(tuple(settings.REQUEST_BODY_LIMITS)):
        if pattern.match(path):
            return limit
    return settings.MAX_REQUEST_BODY_BYTES


async def _refuse(send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit_for(scope["path"])
        too_large = f"Request body is larger than {limit} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit():
                    return await _refuse(send, 400, "bad_request", "Invalid Content-Length header.")
                if int(value) > limit:
                    return await _refuse(send, 413, "payload_too_large", too_large)
                break

        received = 0
        refused = False

        async def limited_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await _refuse(send, 413, "payload_too_large", too_large)
                    # Django stops reading and drops what it spooled.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not refused:  # the 413 has been sent already
                await send(message)

        await self.app(scope, limited_receive, guarded_send)
