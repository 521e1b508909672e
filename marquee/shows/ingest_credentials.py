"""Short-lived, single-use ingest credentials for the server's own publishers
(the WHIP relay).  The stream key is stored hashed, so the relay can't send
it; it sends one of these as ``?key=`` instead and the publish hook accepts it
in place of the key, through the same go-live checks (``services.start_publish``)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache

SALT = "marquee.shows.ingest-credential"
# '.' is outside base64url: the token travels in an RTMP URL argument unquoted.
_signer = signing.TimestampSigner(salt=SALT, sep=".")


def mint(performer) -> str:
    return _signer.sign_object({"p": performer.pk, "n": secrets.token_urlsafe(12)})


def redeem(performer, token: str) -> bool:
    """True once for a valid, unexpired credential of this performer."""
    if not token or "." not in token:
        return False
    max_age = settings.INGEST_CREDENTIAL_SECONDS
    try:
        data = _signer.unsign_object(token, max_age=max_age)
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or data.get("p") != performer.pk:
        return False
    # Single use: a copy seen in a process list can't start a second publish.
    return cache.add(f"ingest-credential:{data.get('n')}", 1, timeout=max_age + 5)
