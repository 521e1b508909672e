"""PayPal's REST API over httpx: OAuth client-credentials token (cached),
JSON requests with ``PayPal-Request-Id`` for idempotent writes.

We call the REST API directly rather than through ``paypal-server-sdk``: the
other gateways already speak httpx, we need eight endpoints, the SDK has no
webhook verification, and an httpx transport is what the tests replace with a
local fake of those endpoints (no network)."""

from __future__ import annotations

import hashlib

import httpx
from django.conf import settings
from django.core.cache import cache

from marquee.lib.errors import DomainError

TIMEOUT = 15
# Tests put an ``httpx.MockTransport`` here (the local fake of PayPal).
TRANSPORT: httpx.BaseTransport | None = None


class PayPalError(Exception):
    """PayPal answered with an error (``status`` and PayPal's ``name``/``issue``)."""

    def __init__(self, status: int, name: str, body: dict):
        self.status, self.name, self.body = status, name, body
        details = body.get("details") or [{}]
        self.issue = str(details[0].get("issue", "")) if isinstance(details, list) and details else ""
        super().__init__(f"PayPal {status} {name} {self.issue}".strip())


def unavailable(action: str) -> DomainError:
    """What a buyer or staff member sees when PayPal fails or cannot be reached."""
    return DomainError("provider_unavailable", f"PayPal could not {action}; please try again later.", 502)


def http() -> httpx.Client:
    return httpx.Client(transport=TRANSPORT, timeout=TIMEOUT, follow_redirects=False)


def _token_key() -> str:
    return (
        "paypal:token:" + hashlib.sha256(f"{settings.PAYPAL_API_URL}|{settings.PAYPAL_CLIENT_ID}".encode()).hexdigest()
    )


def access_token() -> str:
    token = cache.get(_token_key())
    if token:
        return token
    with http() as client:
        response = client.post(
            f"{settings.PAYPAL_API_URL.rstrip('/')}/v1/oauth2/token",
            auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
            data={"grant_type": "client_credentials"},
        )
    body = _json(response)
    if response.status_code != 200 or "access_token" not in body:
        raise PayPalError(response.status_code, str(body.get("error", "auth_failed")), body)
    # Renew a minute before PayPal's expiry.
    cache.set(_token_key(), body["access_token"], max(int(body.get("expires_in", 0)) - 60, 1))
    return body["access_token"]


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def call(method: str, path: str, *, json: dict | None = None, params: dict | None = None, request_id: str = "") -> dict:
    """One REST call; returns the JSON body (``{}`` for 204), raises ``PayPalError``."""
    headers = {"Authorization": f"Bearer {access_token()}", "Prefer": "return=representation"}
    if request_id:
        # PayPal answers a repeated request id with the first result instead of acting twice.
        headers["PayPal-Request-Id"] = request_id[:108]
    with http() as client:
        response = client.request(
            method, f"{settings.PAYPAL_API_URL.rstrip('/')}{path}", json=json, params=params, headers=headers
        )
    body = _json(response)
    if response.status_code >= 400:
        raise PayPalError(response.status_code, str(body.get("name", "")), body)
    return body
