from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from marquee.audit.models import AuditEvent
from marquee.performers.models import RegionBlock
from marquee.recommendations.models import ViewerBlock
from tests.factories import PASSWORD
from tests.support.compliance import approve_age

URL = "/api/v1/recommendations/"


@pytest.fixture
def api(trained):
    client = APIClient()
    approve_age(trained["cook_fans"][0])  # Texas requires age verification
    client.force_login(trained["cook_fans"][0])
    return client


def test_unauthenticated_calls_are_refused(trained):
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_jwt_access_token_is_accepted(trained):
    fan = trained["cook_fans"][0]
    login = APIClient().post("/_allauth/app/v1/auth/login", {"email": fan.email, "password": PASSWORD}, format="json")
    assert login.status_code == 200, login.content
    token = login.json()["meta"]["access_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(URL, {"limit": 4})
    assert response.status_code == 200
    assert sorted(r["username"] for r in response.json()["results"]) == ["c0", "c1", "c2", "c3"]
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get(URL).status_code == 401


def test_results_carry_performer_fields_score_and_model_version(api):
    body = api.get(URL, {"limit": 2}).json()
    assert len(body["results"]) == 2
    first = body["results"][0]
    assert {"username", "display_name", "is_live", "tags", "score", "source"} <= first.keys()
    assert first["source"] == "personal"
    assert body["model_version"] != "none"


@pytest.mark.parametrize("limit", ["abc", "0", "-3", "101", "1e3", "2.5", "99999999999999999999999", "%00"])
def test_odd_limits_get_a_400_with_a_message(api, limit):
    response = api.get(URL, {"limit": limit})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_limit" and "between 1 and 100" in error["message"]


@pytest.mark.parametrize(("limit", "expected"), [("", 16), ("1", 1), ("100", 16)])
def test_valid_limits(api, limit, expected):
    response = api.get(URL, {"limit": limit})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(expected, 8)  # eight visible performers besides nobody's own


def test_hide_and_unhide_through_the_api(api, trained):
    fan = trained["cook_fans"][0]
    assert api.put(f"{URL}hidden/c1/").status_code == 201
    assert api.put(f"{URL}hidden/c1/").status_code == 200
    assert "c1" not in [r["username"] for r in api.get(URL).json()["results"]]
    assert [p["username"] for p in api.get(f"{URL}hidden/").json()] == ["c1"]
    assert AuditEvent.objects.filter(action="recommendations.performer_hidden").count() == 1
    assert api.delete(f"{URL}hidden/c2/").status_code == 404  # not on the list
    assert api.delete(f"{URL}hidden/c1/").json() == {"hidden": False}
    assert "c1" in [r["username"] for r in api.get(URL).json()["results"]]
    assert not ViewerBlock.objects.filter(user=fan).exists()


def test_strangers_cannot_hide_and_nothing_changes(trained):
    response = APIClient().put(f"{URL}hidden/c1/")
    assert response.status_code == 401
    assert not ViewerBlock.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="recommendations.").exists()


def test_hiding_a_performer_hidden_from_your_region_is_a_404_and_changes_nothing(settings, api, trained):
    settings.GEO_LOCAL_LOCATION = "US-TX"  # the test client comes from 127.0.0.1
    RegionBlock.objects.create(performer=trained["cooks"][1], country="US")
    assert api.put(f"{URL}hidden/c1/").status_code == 404
    assert api.put(f"{URL}hidden/nobody/").status_code == 404
    assert not ViewerBlock.objects.exists()
    assert "c1" not in [r["username"] for r in api.get(URL).json()["results"]]


def test_similar_endpoint_hides_region_blocked_rooms(settings, trained):
    settings.GEO_LOCAL_LOCATION = "US-TX"
    RegionBlock.objects.create(performer=trained["cooks"][2], country="US", subdivision="TX")
    client = APIClient()
    approve_age(trained["art_fans"][0])  # Texas requires age verification
    client.force_login(trained["art_fans"][0])
    results = client.get(f"{URL}similar/c0/", {"limit": 5}).json()["results"]
    assert {"c1", "c3"} <= {r["username"] for r in results}
    assert "c2" not in {r["username"] for r in results} and "c0" not in {r["username"] for r in results}
    assert client.get(f"{URL}similar/c2/").status_code == 404
    assert client.get(f"{URL}similar/c0/", {"limit": "x"}).status_code == 400
