"""Every API endpoint on main: a user reads and changes only their own data;
strangers are refused and nothing changes."""

from __future__ import annotations

import pytest

from marquee.audit.models import AuditEvent
from marquee.compliance.models import AgeVerification, PerformerRecord
from marquee.performers.models import Follow
from tests.factories import FollowFactory
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(Follow.objects.values_list("user_id", "performer_id")),
        sorted(AgeVerification.objects.values_list("user_id", "status")),
        sorted(PerformerRecord.objects.values_list("performer_id", "status")),
    )


@pytest.fixture
def world(viewer, outsider, performer):
    FollowFactory(user=outsider, performer=performer)
    approve_age(outsider)
    PerformerRecord.objects.create(performer=performer, legal_name="Secret Legal Name", date_of_birth="1990-01-01")
    return {"viewer": viewer, "outsider": outsider, "performer": performer}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/"),
        ("get", "/api/v1/me/follows/"),
        ("put", "/api/v1/performers/performer/follow/"),
        ("delete", "/api/v1/performers/performer/follow/"),
        ("get", "/api/v1/age-verification/"),
        ("get", "/api/v1/performer-verification/"),
    ],
)
def test_anonymous_refused_and_nothing_changed(client, world, method, path):
    before = _snapshot()
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert _snapshot() == before


def test_me_is_only_my_data(client, world):
    client.force_login(world["viewer"])
    data = client.get("/api/v1/me/").json()
    assert data["username"] == "viewer" and data["email"] == world["viewer"].email
    assert "outsider" not in str(data)


def test_follows_list_is_only_mine(client, world):
    client.force_login(world["viewer"])
    assert client.get("/api/v1/me/follows/").json() == []


def test_follow_changes_only_my_own_row(client, world):
    before = Follow.objects.filter(user=world["outsider"]).count()
    client.force_login(world["viewer"])
    assert client.put("/api/v1/performers/performer/follow/").status_code == 201
    assert client.delete("/api/v1/performers/performer/follow/").status_code == 200
    assert not Follow.objects.filter(user=world["viewer"]).exists()
    assert Follow.objects.filter(user=world["outsider"]).count() == before


def test_age_verification_status_is_mine(client, world):
    client.force_login(world["viewer"])
    assert client.get("/api/v1/age-verification/").json()["verified"] is False


def test_viewer_cannot_read_a_performers_record(client, world):
    before = _snapshot()
    client.force_login(world["viewer"])
    response = client.get("/api/v1/performer-verification/")
    assert response.status_code == 404 and b"Secret Legal Name" not in response.content
    assert _snapshot() == before


def test_performer_cannot_read_another_performers_record(client, world):
    from tests.factories import PerformerFactory, UserFactory

    other = PerformerFactory(user=UserFactory(username="other"))
    client.force_login(other.user)
    response = client.get("/api/v1/performer-verification/")
    assert response.status_code == 404 and b"Secret Legal Name" not in response.content
    # … nor through the record pages.
    page = client.get("/performer-verification/")
    assert b"Secret Legal Name" not in page.content
    assert not AuditEvent.objects.filter(action__startswith="performer_record.document").exists()


def test_unknown_performer_and_hidden_performer_look_the_same(client, world):
    client.force_login(world["viewer"])
    missing = client.put("/api/v1/performers/nobody/follow/")
    world["performer"].is_suspended = True
    world["performer"].save()
    hidden = client.put("/api/v1/performers/performer/follow/")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()
    assert not Follow.objects.filter(user=world["viewer"]).exists()
