"""IP address → country and subdivision (US state, UK nation).

Reads a MaxMind-format City database (``GEOIP_DATABASE``) with ``geoip2``;
results are cached per IP.  Without a database every address is "unknown",
and ``GEO_UNKNOWN_POLICY`` decides what unknown means.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
from dataclasses import dataclass

from django.conf import settings
from maxminddb import InvalidDatabaseError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Location:
    country: str | None = None  # ISO 3166-1 alpha-2, e.g. "US"
    subdivision: str | None = None  # ISO 3166-2 suffix, e.g. "TX", "ENG"

    @property
    def known(self) -> bool:
        return self.country is not None

    def __str__(self) -> str:
        if not self.country:
            return "unknown"
        return f"{self.country}-{self.subdivision}" if self.subdivision else self.country


UNKNOWN = Location()


@functools.lru_cache(maxsize=4)
def _reader(path: str, mtime_ns: int):
    import geoip2.database

    # Keyed by the file's mtime too: geoipupdate replaces the file in place and
    # the next lookup opens the new one (old readers are dropped by the LRU).
    return geoip2.database.Reader(path)


@functools.lru_cache(maxsize=65536)
def _locate_cached(path: str, mtime_ns: int, ip: str) -> Location:
    import geoip2.errors

    try:
        response = _reader(path, mtime_ns).city(ip)
    except (geoip2.errors.AddressNotFoundError, ValueError):
        return UNKNOWN
    country = response.country.iso_code
    if not country:
        return UNKNOWN
    # The first-level subdivision (US state, UK nation): laws are made there,
    # while the most specific one may be a county.
    subdivisions = response.subdivisions
    subdivision = subdivisions[0].iso_code if subdivisions else None
    return Location(country=country.upper(), subdivision=subdivision.upper() if subdivision else None)


def locate(ip: str | None) -> Location:
    if not ip:
        return UNKNOWN
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_private:
        local = getattr(settings, "GEO_LOCAL_LOCATION", "")
        if local:
            country, _, subdivision = local.partition("-")
            return Location(country=country, subdivision=subdivision or None)
    path = str(getattr(settings, "GEOIP_DATABASE", "") or "")
    if not path:
        return UNKNOWN
    try:
        mtime_ns = os.stat(path).st_mtime_ns
        return _locate_cached(path, mtime_ns, str(address))
    except (OSError, InvalidDatabaseError):
        # Unknown, so GEO_UNKNOWN_POLICY decides (fail closed in production).
        logger.exception("GeoIP database %s unreadable", path)
        return UNKNOWN


def clear_cache() -> None:
    _locate_cached.cache_clear()
    _reader.cache_clear()


def location_for_request(request) -> Location:
    cached = getattr(request, "_marquee_location", None)
    if cached is None:
        cached = locate(getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR"))
        request._marquee_location = cached
    return cached
