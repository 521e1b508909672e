"""IP address → country and subdivision (US state, UK nation).

Reads a MaxMind-format City database (``GEOIP_DATABASE``) with ``geoip2``;
results are cached per IP.  Without a database every address is "unknown",
and ``GEO_UNKNOWN_POLICY`` decides what unknown means.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from django.conf import settings


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
def _reader(path: str):
    import geoip2.database

    return geoip2.database.Reader(path)


@functools.lru_cache(maxsize=65536)
def _locate_cached(path: str, ip: str) -> Location:
    import geoip2.errors

    try:
        response = _reader(path).city(ip)
    except (geoip2.errors.AddressNotFoundError, ValueError):
        return UNKNOWN
    country = response.country.iso_code
    subdivision = response.subdivisions.most_specific.iso_code if response.subdivisions else None
    return Location(country=country, subdivision=subdivision)


def locate(ip: str | None) -> Location:
    if not ip:
        return UNKNOWN
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return UNKNOWN
    if address.is_loopback or address.is_private:
        local = getattr(settings, "GEO_LOCAL_LOCATION", "")
        if local:
            country, _, subdivision = local.partition("-")
            return Location(country=country, subdivision=subdivision or None)
    path = getattr(settings, "GEOIP_DATABASE", "")
    if not path:
        return UNKNOWN
    return _locate_cached(str(path), str(address))


def clear_cache() -> None:
    _locate_cached.cache_clear()
    _reader.cache_clear()


def location_for_request(request) -> Location:
    cached = getattr(request, "_marquee_location", None)
    if cached is None:
        cached = locate(getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR"))
        request._marquee_location = cached
    return cached
