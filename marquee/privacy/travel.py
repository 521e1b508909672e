"""Performer travel mode: block, with one switch, the countries they are in
now (from the address they are logged in from and their latest ingest
address).  Enforcement is the ordinary region block
(``performers.RegionBlock`` read by ``compliance.policy`` on every surface),
so there is nothing new to enforce."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.audit.services import record_audit
from marquee.lib.errors import DomainError
from marquee.lib.geo import locate, location_for_request
from marquee.performers import services as performer_services
from marquee.performers.models import Performer, RegionBlock
from marquee.privacy.models import TravelMode

INGEST_RECENT = datetime.timedelta(hours=24)


def detected_locations(*, performer: Performer, request) -> list[dict]:
    """Where the performer is now, by source; shown before they confirm."""
    found = [{"source": "login", "location": location_for_request(request)}]
    publish = (
        AuditEvent.objects.filter(
            action="media.publish_accepted",
            target_type="performers.performer",
            target_id=str(performer.pk),
            created_at__gte=timezone.now() - INGEST_RECENT,
        )
        .order_by("-pk")
        .first()
    )
    if publish is not None and publish.ip:
        found.append({"source": "ingest", "location": locate(publish.ip)})
    return [
        {"source": item["source"], "country": item["location"].country, "region": str(item["location"])}
        for item in found
        if item["location"].known
    ]


def countries_to_block(*, performer: Performer, request) -> list[str]:
    return sorted({item["country"] for item in detected_locations(performer=performer, request=request)})


def enable(*, performer: Performer, request, confirmed: list[str]) -> TravelMode:
    """Block what was shown (``confirmed``); refuse if it is unknown or the
    performer's location changed since, so they never block something unseen."""
    countries = countries_to_block(performer=performer, request=request)
    if not countries:
        raise DomainError("location_unknown", "We cannot tell where you are; block a region by hand instead.", 409)
    if sorted(set(confirmed)) != countries:
        raise DomainError("location_changed", "Your location changed; check the regions again and confirm.", 409)
    with transaction.atomic():
        Performer.objects.select_for_update().filter(pk=performer.pk).first()
        mode = TravelMode.objects.filter(performer=performer).first() or TravelMode(performer=performer)
        added = list(mode.countries)
        for country in countries:
            if not RegionBlock.objects.filter(performer=performer, country=country, subdivision="").exists():
                performer_services.add_region_block(performer=performer, region=country, request=request)
                added.append(country)
        mode.countries = sorted(set(added))
        mode.enabled_at = timezone.now()
        mode.save()
        record_audit(
            action="privacy.travel_mode_on", request=request, target=performer, details={"countries": countries}
        )
    return mode


def disable(*, performer: Performer, request) -> bool:
    with transaction.atomic():
        mode = TravelMode.objects.select_for_update().filter(performer=performer).first()
        if mode is None:
            return False
        for block in RegionBlock.objects.filter(performer=performer, country__in=mode.countries, subdivision=""):
            performer_services.remove_region_block(performer=performer, block_id=block.pk, request=request)
        mode.delete()
        record_audit(action="privacy.travel_mode_off", request=request, target=performer)
    return True
