"""Which WebSocket handshakes may authenticate with the session cookie.

Browsers always send ``Origin``; a cookie only proves who the user is when
the page opening the socket is ours (cross-site WebSocket hijacking), so a
handshake with an Origin must match ``ALLOWED_HOSTS``.  Native apps and
server-side clients send no Origin: they are let in with their cookies
removed, so they can only authenticate with the first-message JWT
(docs/chat-protocol.md).
"""

from __future__ import annotations

from channels.security.websocket import AllowedHostsOriginValidator


def CookieOriginPolicy(application):  # an ASGI middleware factory, named like Channels' own
    validator = AllowedHostsOriginValidator(application)

    async def app(scope, receive, send):
        headers = scope.get("headers", [])
        if any(name == b"origin" for name, _ in headers):
            return await validator(scope, receive, send)
        scope = {**scope, "headers": [(name, value) for name, value in headers if name != b"cookie"]}
        return await application(scope, receive, send)

    return app
