"""Applying to become a performer (web page and API)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from marquee.audit.models import AuditEvent
from marquee.performers.models import Performer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_viewer_applies_on_the_web_and_starts_unverified(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("performer_apply")).status_code == 200
    response = client.post(reverse("performer_apply"), {"display_name": "Nova Lights", "accept_terms": "on"})
    assert response.status_code == 302
    performer = Performer.objects.get(user=viewer)
    assert performer.display_name == "Nova Lights"
    assert performer.verification_status == Performer.Verification.UNVERIFIED
    assert AuditEvent.objects.filter(action="performer.applied", actor=viewer).count() == 1


def test_web_application_needs_the_terms_box(client, viewer):
    client.force_login(viewer)
    response = client.post(reverse("performer_apply"), {"display_name": "Nova"})
    assert response.status_code == 200
    assert not Performer.objects.filter(user=viewer).exists()


def test_anonymous_cannot_apply_and_nothing_is_created(client):
    response = client.post(reverse("performer_apply"), {"display_name": "Ghost", "accept_terms": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Performer.objects.exists()


def test_applying_twice_keeps_the_first_profile(client, performer):
    client.force_login(performer.user)
    response = client.post(reverse("performer_apply"), {"display_name": "Renamed", "accept_terms": "on"})
    assert response.status_code == 200
    performer.refresh_from_db()
    assert performer.display_name == "Performer One"
    assert performer.verification_status == Performer.Verification.VERIFIED


def test_api_apply_and_read_back(client, viewer):
    client.force_login(viewer)
    assert client.get("/api/v1/me/performer/").json()["error"]["code"] == "not_a_performer"
    response = client.post("/api/v1/me/performer/", {"display_name": "Nova"}, content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {"username": "viewer", "display_name": "Nova", "verification_status": "unverified"}
    again = client.post("/api/v1/me/performer/", {"display_name": "Other"}, content_type="application/json")
    assert again.status_code == 409
    assert client.get("/api/v1/me/performer/").json()["display_name"] == "Nova"


def test_api_apply_validates_input_and_requires_auth(client, viewer):
    anonymous = client.post("/api/v1/me/performer/", {"display_name": "X"}, content_type="application/json")
    assert anonymous.status_code == 401
    client.force_login(viewer)
    response = client.post("/api/v1/me/performer/", {"display_name": ""}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Performer.objects.exists()


def test_user_without_date_of_birth_is_refused(client):
    user = UserFactory(username="nodob", date_of_birth=None)
    client.force_login(user)
    response = client.post("/api/v1/me/performer/", {"display_name": "Nodob"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "application_refused"
    assert not Performer.objects.exists()
    assert not AuditEvent.objects.filter(action="performer.applied").exists()
