"""Regions a performer may block: countries (ISO 3166-1) and, for the US and
the UK, states and nations (ISO 3166-2 suffixes, as ``lib.geo`` reports them)."""

from __future__ import annotations

import functools

import pycountry

UK_NATIONS = {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"}


@functools.cache
def countries() -> list[tuple[str, str]]:
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda item: item[1])


@functools.cache
def subdivisions() -> dict[str, dict[str, str]]:
    us = {
        s.code.split("-", 1)[1]: s.name
        for s in pycountry.subdivisions.get(country_code="US")
        if s.type in ("State", "District")
    }
    return {"US": dict(sorted(us.items(), key=lambda item: item[1])), "GB": UK_NATIONS}


def region_choices() -> list[tuple[str, str]]:
    """Flat choices for a select: "FR", "US", "US-TX", "GB-SCT", …"""
    choices = []
    for code, name in countries():
        choices.append((code, name))
        for sub, sub_name in subdivisions().get(code, {}).items():
            choices.append((f"{code}-{sub}", f"{name} — {sub_name}"))
    return choices


def parse_region(value: str) -> tuple[str, str] | None:
    """("US", "TX") for "US-TX", ("FR", "") for "FR", None when unknown."""
    country, _, sub = (value or "").strip().upper().partition("-")
    if country not in dict(countries()):
        return None
    if sub and sub not in subdivisions().get(country, {}):
        return None
    return country, sub


def region_label(country: str, sub: str) -> str:
    name = dict(countries()).get(country, country)
    return f"{name} — {subdivisions().get(country, {}).get(sub, sub)}" if sub else name
