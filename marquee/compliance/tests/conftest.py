from __future__ import annotations

import io

import pytest
import schemathesis
from django.utils import timezone
from mmdb_writer import MMDBWriter
from netaddr import IPSet
from PIL import Image

from marquee.compliance.models import AgeVerification
from marquee.lib import geo

# The WHIP endpoint (shows.whip_api) takes an SDP offer: text on the wire.
schemathesis.serializer.alias("application/sdp", "text/plain")

# Documentation ranges (RFC 5737 / RFC 3849), mapped at test time.
TEXAS_V4, TEXAS_V6 = "203.0.113.10", "2001:db8:7e::10"
CALIFORNIA_V4, CALIFORNIA_V6 = "198.51.100.20", "2001:db8:ca::20"
ENGLAND_V4 = "192.0.2.30"
GERMANY_V4 = "100.64.0.1"  # shared-address space, not "private" for ipaddress
NOWHERE_V4 = "8.8.4.4"  # not in the test database


@pytest.fixture
def geoip_db(tmp_path, settings):
    """A MaxMind-format City database written now, with state-level data."""
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", ipv4_compatible=True)

    def place(networks, country, *subdivisions):
        record = {"country": {"iso_code": country}}
        if subdivisions:
            record["subdivisions"] = [{"iso_code": code} for code in subdivisions]
        writer.insert_network(IPSet(networks), record)

    place(["203.0.113.0/24", "2001:db8:7e::/48"], "US", "TX")
    place(["198.51.100.0/24", "2001:db8:ca::/48"], "US", "CA")
    place(["192.0.2.0/24"], "GB", "ENG", "KEN")  # nation, then county
    place(["100.64.0.0/16"], "DE")
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    settings.GEOIP_DATABASE = str(path)
    settings.GEO_LOCAL_LOCATION = ""
    geo.clear_cache()
    yield path
    geo.clear_cache()


@pytest.fixture
def private_root(tmp_path, settings):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


def png_bytes(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


def approve_age(user, *, days_ago: int = 0) -> AgeVerification:
    return AgeVerification.objects.create(
        user=user,
        provider="sandbox",
        method="document",
        status=AgeVerification.Status.APPROVED,
        decided_at=timezone.now() - timezone.timedelta(days=days_ago),
    )


def from_ip(client, ip):
    """Requests from this client appear to come from ``ip`` (REMOTE_ADDR)."""
    client.defaults["REMOTE_ADDR"] = ip
    return client
