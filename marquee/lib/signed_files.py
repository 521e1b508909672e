"""Per-user, expiring tokens for private files served by Django (content
items, private-show recordings): one mechanism, one salt per kind of file.

The token names the file and the user it was minted for; the serving view
checks both, then asks its entitlement rule again, so a link shared or kept
past a lost entitlement opens nothing."""

from __future__ import annotations

from django.conf import settings
from django.core import signing


def make_token(salt: str, user, **fields) -> str:
    return signing.dumps({**fields, "u": user.pk}, salt=salt, compress=False)


def read_token(salt: str, token: str, user) -> dict | None:
    """The token's fields if it is genuine, unexpired (``CONTENT_URL_MAX_AGE``)
    and minted for ``user``; otherwise None."""
    try:
        data = signing.loads(token, salt=salt, max_age=settings.CONTENT_URL_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or user is None or not user.is_authenticated or data.get("u") != user.pk:
        return None
    return data
