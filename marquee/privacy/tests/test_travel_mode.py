"""Travel mode: one switch hides the performer, on every surface, from a
viewer in the country they are in now; it uses the ordinary region blocks."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marquee.access import selectors as access
from marquee.audit.models import AuditEvent
from marquee.compliance.tests.conftest import geoip_db  # noqa: F401 (fixture)
from marquee.lib.geo import locate
from marquee.performers.models import RegionBlock
from marquee.privacy.models import TravelMode
from marquee.shows import thumbnails
from marquee.shows.models import Show
from tests.factories import ShowFactory, UserFactory
from tests.support.compliance import CALIFORNIA_V4, ENGLAND_V4, GERMANY_V4, approve_age

URL = "/api/v1/dashboard/travel-mode/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, geoip_db):  # noqa: F811
    settings.MEDIA_PUBLIC_URL = "http://media.test:8081"
    settings.MEDIA_PLAYBACK_SECRET = "playback-secret"
    settings.MEDIA_VAR_DIR = tmp_path


@pytest.fixture
def live(performer):
    ShowFactory(performer=performer, kind="public", status=Show.Status.LIVE, started_at=timezone.now())
    frame = thumbnails.thumbnail_path("performer")
    frame.parent.mkdir(parents=True, exist_ok=True)
    frame.write_bytes(b"\xff\xd8frame")
    return performer


def viewer_in(ip):
    user = UserFactory()
    approve_age(user)
    client = Client(REMOTE_ADDR=ip)
    client.force_login(user)
    client.user = user
    return client


def performer_client(performer, ip):
    if not performer.user.age_verifications.exists():
        approve_age(performer.user)  # England asks for age verification
    client = Client(REMOTE_ADDR=ip)
    client.force_login(performer.user)
    return client


def turn_on(performer, ip=ENGLAND_V4):
    client = performer_client(performer, ip)
    shown = client.get(URL).json()
    response = client.post(URL, {"confirm": shown["would_block"]}, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def _room(c):
    return c.get("/rooms/performer/").status_code == 200 and c.get("/api/v1/rooms/performer/").status_code == 200


def _thumbnail(c):
    return c.get("/rooms/performer/thumbnail.jpg").status_code == 200


def _profile(c):
    return c.get("/performers/performer/").status_code == 200 and (
        c.get("/api/v1/performers/performer/").status_code == 200
    )


def _schedule(c):
    return c.get(reverse("schedule_ical", args=["performer"])).status_code == 200


def _search(c):
    listing = c.get("/api/v1/performers/", {"q": "perf"}).json()["results"]
    return b"Performer One" in c.get("/", {"q": "perf"}).content and [p["username"] for p in listing] == ["performer"]


def _recommendations(c):
    return "performer" in [r["username"] for r in c.get("/api/v1/recommendations/").json()["results"]]


def _playback(c):
    decision = access.watch(access.Viewer(c.user, locate(c.defaults["REMOTE_ADDR"])), Show.objects.get())
    return bool(decision) and bool(c.get("/api/v1/rooms/performer/").json().get("playback_url"))


def _chat(c):
    join = access.chat(
        viewer=c.user, username="performer", location=locate(c.defaults["REMOTE_ADDR"]), age_gate_passed=False
    )
    return bool(join.decision) and c.get("/api/v1/rooms/performer/messages/").status_code == 200


SURFACES = [_room, _thumbnail, _profile, _schedule, _search, _recommendations, _playback, _chat]


@pytest.mark.parametrize("surface", SURFACES, ids=lambda f: f.__name__.strip("_"))
def test_travel_mode_hides_the_performer_on_every_surface_where_they_are(live, surface):
    there, elsewhere = viewer_in(ENGLAND_V4), viewer_in(CALIFORNIA_V4)
    assert surface(there) and surface(elsewhere)  # visible before: the check can fail

    turn_on(live, ENGLAND_V4)

    assert not surface(there)
    assert surface(elsewhere)


def test_region_is_shown_before_confirming_and_comes_from_login_and_ingest(live):
    from marquee.audit.services import record_audit

    record_audit(action="media.publish_accepted", ip=GERMANY_V4, user_agent="media-server", target=live, details={})
    client = performer_client(live, ENGLAND_V4)

    shown = client.get(URL).json()

    assert {(d["source"], d["region"]) for d in shown["detected"]} == {("login", "GB-ENG"), ("ingest", "DE")}
    assert shown["would_block"] == ["DE", "GB"] and not shown["enabled"]
    assert not RegionBlock.objects.exists()  # looking blocks nothing
    body = client.post(URL, {"confirm": ["DE", "GB"]}, content_type="application/json").json()
    assert body["enabled"] and body["blocked_countries"] == ["DE", "GB"]
    assert set(RegionBlock.objects.values_list("country", "subdivision")) == {("DE", ""), ("GB", "")}


def test_a_changed_location_is_refused_and_nothing_is_blocked(live):
    client = performer_client(live, ENGLAND_V4)
    response = client.post(URL, {"confirm": ["US"]}, content_type="application/json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "location_changed"
    assert not RegionBlock.objects.exists() and not TravelMode.objects.exists()


def test_turning_off_removes_only_what_travel_mode_added(live):
    RegionBlock.objects.create(performer=live, country="DE")  # set by hand, stays
    turn_on(live, ENGLAND_V4)
    client = performer_client(live, ENGLAND_V4)

    body = client.delete(URL).json()

    assert not body["enabled"]
    assert list(RegionBlock.objects.values_list("country", flat=True)) == ["DE"]
    assert viewer_in(ENGLAND_V4).get("/rooms/performer/").status_code == 200


def test_a_viewer_cannot_use_travel_mode_and_nothing_changes(viewer):
    client = Client(REMOTE_ADDR=ENGLAND_V4)
    client.force_login(viewer)
    audit_rows = AuditEvent.objects.count()
    assert client.post(URL, {"confirm": ["GB"]}, content_type="application/json").status_code == 403
    assert Client().post(URL, {"confirm": ["GB"]}, content_type="application/json").status_code in (401, 403)
    assert not RegionBlock.objects.exists() and not TravelMode.objects.exists()
    assert AuditEvent.objects.count() == audit_rows


PAGE = "/dashboard/travel/"


def test_web_page_shows_where_you_are_then_switches_on_and_off(live):
    client = performer_client(live, ENGLAND_V4)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"GB-ENG" in page.content and b'name="confirm" value="GB"' in page.content
    assert not RegionBlock.objects.exists()  # looking blocks nothing

    assert client.post(PAGE, {"action": "on", "confirm": ["GB"]}).status_code == 302
    assert list(RegionBlock.objects.values_list("country", flat=True)) == ["GB"]
    assert b"On: hidden in GB" in client.get(PAGE).content
    assert not _room(viewer_in(ENGLAND_V4))

    assert client.post(PAGE, {"action": "off"}).status_code == 302
    assert not RegionBlock.objects.exists() and not TravelMode.objects.exists()
    assert b'href="/dashboard/travel/"' in client.get("/dashboard/").content


def test_web_page_refuses_a_region_that_was_not_shown_and_changes_nothing(live):
    client = performer_client(live, ENGLAND_V4)
    refused = client.post(PAGE, {"action": "on", "confirm": ["DE"]})
    assert refused.status_code == 409 and b"Your location changed" in refused.content
    assert not RegionBlock.objects.exists() and not TravelMode.objects.exists()


def test_web_page_is_for_performers_only(live):
    stranger = viewer_in(ENGLAND_V4)
    assert stranger.get(PAGE).status_code == 403
    assert stranger.post(PAGE, {"action": "on", "confirm": ["GB"]}).status_code == 403
    assert not RegionBlock.objects.exists() and not TravelMode.objects.exists()
