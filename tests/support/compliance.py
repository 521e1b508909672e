"""Compliance test helpers: addresses the geoip_db fixture maps, images,
an approved age check, requests from an address."""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from PIL import Image

from marquee.compliance.models import AgeVerification
from tests.factories import AgeVerificationFactory

# Documentation ranges (RFC 5737 / RFC 3849), mapped at test time.
TEXAS_V4, TEXAS_V6 = "203.0.113.10", "2001:db8:7e::10"
CALIFORNIA_V4, CALIFORNIA_V6 = "198.51.100.20", "2001:db8:ca::20"
ENGLAND_V4 = "192.0.2.30"
GERMANY_V4 = "100.64.0.1"  # shared-address space, not "private" for ipaddress
NOWHERE_V4 = "8.8.4.4"  # not in the test database


def png_bytes(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


def approve_age(user, *, days_ago: int = 0) -> AgeVerification:
    return AgeVerificationFactory(
        user=user, approved=True, decided_at=timezone.now() - datetime.timedelta(days=days_ago)
    )


def from_ip(client, ip):
    """Requests from this client appear to come from ``ip`` (REMOTE_ADDR)."""
    client.defaults["REMOTE_ADDR"] = ip
    return client
