"""Fixtures only; helpers and the mapped test addresses are in tests/support/compliance.py."""

from __future__ import annotations

import pytest
import schemathesis
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from marquee.lib import geo

# The WHIP endpoint (shows.whip_api) takes an SDP offer: text on the wire.
schemathesis.serializer.alias("application/sdp", "text/plain")


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
