from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.compliance.models import Jurisdiction
from marquee.compliance.selectors import forget_jurisdiction_rules
from tests.factories import JurisdictionFactory
from tests.support.compliance import CALIFORNIA_V4, GERMANY_V4, TEXAS_V4, TEXAS_V6, approve_age

pytestmark = pytest.mark.django_db


@pytest.fixture
def germany_blocked(geoip_db):
    rule = JurisdictionFactory(country="DE", rule="blocked", reason="Not offered in Germany (test).")
    forget_jurisdiction_rules()
    return rule


@pytest.mark.parametrize("path", ["/", "/rooms/performer/", "/performers/performer/", "/age-gate/", "/accounts/login/"])
def test_blocked_region_gets_451_page(client, germany_blocked, performer, path):
    response = client.get(path, REMOTE_ADDR=GERMANY_V4)
    assert response.status_code == 451
    assert b"Not offered in Germany (test)." in response.content
    assert b"Unavailable in your region" in response.content


@pytest.mark.parametrize("path", ["/api/v1/performers/", "/api/v1/performers/performer/", "/api/v1/me/"])
def test_blocked_region_gets_451_json(client, germany_blocked, performer, path):
    response = client.get(path, REMOTE_ADDR=GERMANY_V4)
    assert response.status_code == 451
    assert response.json()["error"]["code"] == "unavailable_for_legal_reasons"


def test_blocked_region_post_changes_nothing(client, germany_blocked, performer, viewer):
    client.force_login(viewer)
    response = client.put("/api/v1/performers/performer/follow/", REMOTE_ADDR=GERMANY_V4)
    assert response.status_code == 451
    assert not viewer.follows.exists()


def test_machine_and_legal_paths_stay_reachable(client, germany_blocked):
    assert client.get("/healthz", REMOTE_ADDR=GERMANY_V4).status_code in (200, 503)
    assert client.get("/legal/2257/", REMOTE_ADDR=GERMANY_V4).status_code == 200


def test_other_regions_unaffected(age_ok_client, germany_blocked, performer):
    assert age_ok_client.get("/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 200
    assert age_ok_client.get("/api/v1/performers/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 200


def test_geo_block_is_audited_once_per_ip(client, germany_blocked):
    for _ in range(3):
        client.get("/", REMOTE_ADDR=GERMANY_V4)
    events = AuditEvent.objects.filter(action="geo.blocked")
    assert events.count() == 1
    assert events.get().ip == GERMANY_V4 and events.get().target_id == "DE"


@pytest.mark.parametrize("ip", [TEXAS_V4, TEXAS_V6])
def test_verify_region_pages_redirect_to_verification(client, geoip_db, viewer, performer, ip):
    client.force_login(viewer)
    response = client.get("/rooms/performer/", REMOTE_ADDR=ip)
    assert response.status_code == 302
    assert response["Location"].startswith("/verify-age/?next=")
    api = client.get("/api/v1/performers/", REMOTE_ADDR=ip)
    assert api.status_code == 403 and api.json()["error"]["code"] == "age_verification_required"
    # The verification page itself and the account pages stay open.
    assert client.get("/verify-age/", REMOTE_ADDR=ip).status_code == 200
    approve_age(viewer)
    assert client.get("/rooms/performer/", REMOTE_ADDR=ip).status_code == 200
    assert client.get("/api/v1/performers/", REMOTE_ADDR=ip).status_code == 200


def test_anonymous_in_verify_region_must_log_in_and_verify(client, geoip_db, performer):
    response = client.get("/", REMOTE_ADDR=TEXAS_V4)
    assert response.status_code == 302 and response["Location"].startswith("/verify-age/")


def test_expired_verification_needs_renewal(client, geoip_db, viewer, performer, settings):
    settings.AGE_VERIFICATION_VALID_DAYS = 30
    approve_age(viewer, days_ago=31)
    client.force_login(viewer)
    assert client.get("/rooms/performer/", REMOTE_ADDR=TEXAS_V4).status_code == 302
    approve_age(viewer, days_ago=29)
    assert client.get("/rooms/performer/", REMOTE_ADDR=TEXAS_V4).status_code == 200


def test_staff_edit_rule_in_admin_takes_effect_and_is_audited(
    client, geoip_db, staff, performer, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    # California allowed at first (rules cached) …
    assert client.get("/api/v1/performers/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/compliance/jurisdiction/add/",
            {"country": "us", "subdivision": "ca", "rule": "blocked", "reason": "Test", "is_active": "on"},
        )
    assert response.status_code == 302, response.content[:2000]
    rule = Jurisdiction.objects.get(country="US", subdivision="CA")
    assert AuditEvent.objects.filter(action="jurisdiction.created", target_id=str(rule.pk)).exists()
    assert AuditEvent.objects.filter(action="admin.added", target_id=str(rule.pk)).exists()
    # … and blocked as soon as the change is committed (cache dropped).
    assert client.get("/api/v1/performers/", REMOTE_ADDR=CALIFORNIA_V4).status_code == 451


def test_non_staff_cannot_edit_rules(client, viewer):
    client.force_login(viewer)
    before = Jurisdiction.objects.count()
    response = client.post(
        "/admin/compliance/jurisdiction/add/", {"country": "US", "subdivision": "CA", "rule": "blocked"}
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Jurisdiction.objects.count() == before


def test_room_access_decision_uses_jurisdiction(geoip_db, viewer, performer):
    """access_show (used by the player/playback signer) asks the same policy."""
    from marquee.access.selectors import Viewer, watch
    from marquee.lib.geo import locate
    from tests.factories import ShowFactory

    show = ShowFactory(performer=performer)
    assert watch(Viewer(viewer, locate(TEXAS_V4)), show).code == "age_verification_required"
    assert watch(Viewer(viewer, locate(CALIFORNIA_V4)), show)


def test_verified_app_user_with_access_token_passes_in_verify_region(client, geoip_db, viewer, performer):
    from allauth.headless.tokens.strategies.jwt.internal import create_access_token
    from django.test import Client

    client.force_login(viewer)
    token = create_access_token(viewer, client.session, {})
    app = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": TEXAS_V4}
    response = app.get("/api/v1/performers/", **headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "age_verification_required"
    approve_age(viewer)
    assert app.get("/api/v1/performers/", **headers).status_code == 200
    assert app.get("/api/v1/me/", **headers).json()["username"] == "viewer"
    # A bad token is not a way around it.
    bad = app.get("/api/v1/performers/", HTTP_AUTHORIZATION="Bearer nope", REMOTE_ADDR=TEXAS_V4)
    assert bad.status_code == 403


@pytest.mark.parametrize(
    "path", ["/api/v1/me/follows/", "/api/v1/me/performer/", "/api/v1/me/stream-key/", "/api/v1/me-anything"]
)
def test_age_verification_exemption_is_exact_not_a_prefix(client, geoip_db, viewer, performer, path):
    """/api/v1/me stays open before verification (the app must learn who is
    logged in); what lies under it does not."""
    from marquee.performers.models import Follow

    client.force_login(viewer)
    assert client.get("/api/v1/me/", REMOTE_ADDR=TEXAS_V4).status_code == 200
    response = client.get(path, REMOTE_ADDR=TEXAS_V4)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "age_verification_required"
    before = Follow.objects.count()
    put = client.put("/api/v1/performers/performer/follow/", REMOTE_ADDR=TEXAS_V4)
    assert put.status_code == 403 and Follow.objects.count() == before


def test_verification_pages_stay_open_before_verification(client, geoip_db, viewer):
    client.force_login(viewer)
    for path in ("/verify-age/", "/api/v1/age-verification/", "/age-gate/", "/api/schema/"):
        response = client.get(path, REMOTE_ADDR=TEXAS_V4)
        assert response.status_code != 403, path
        assert "age_verification_required" not in response.content.decode(), path
