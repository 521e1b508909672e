"""Issue 15 item 1: people choose (or the browser reports) their time zone."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_account_page_changes_the_zone(client, viewer):
    client.force_login(viewer)
    page = client.get(reverse("account")).content.decode()
    assert 'name="timezone"' in page and '<option value="Europe/Paris">' in page
    response = client.post(reverse("account_timezone"), {"timezone": "Europe/Paris"})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.timezone == "Europe/Paris"
    assert 'data-tz="Europe/Paris"' in client.get(reverse("account")).content.decode()


def test_browser_report_is_answered_without_a_page(client, viewer):
    client.force_login(viewer)
    response = client.post(reverse("account_timezone"), {"timezone": "America/New_York", "auto": "1"})
    assert response.status_code == 204
    viewer.refresh_from_db()
    assert viewer.timezone == "America/New_York"


@pytest.mark.parametrize("bad", ["", "Mars/Olympus", "../../etc/passwd", "x" * 80])
def test_unknown_zone_is_refused_and_nothing_changes(client, viewer, bad):
    client.force_login(viewer)
    response = client.post(reverse("account_timezone"), {"timezone": bad, "auto": "1"})
    assert response.status_code == 400
    assert "Choose a time zone" in response.content.decode()
    response = client.patch(reverse("api_me"), {"timezone": bad}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"bad_timezone", "invalid"}
    viewer.refresh_from_db()
    assert viewer.timezone == "UTC"


def test_anonymous_cannot_set_a_zone(client, viewer):
    response = client.post(reverse("account_timezone"), {"timezone": "Europe/Paris"})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    viewer.refresh_from_db()
    assert viewer.timezone == "UTC"


def test_api_reads_and_writes_the_zone(client, viewer):
    client.force_login(viewer)
    response = client.patch(reverse("api_me"), {"timezone": "Asia/Tokyo"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["timezone"] == "Asia/Tokyo"
    assert client.get(reverse("api_me")).json()["timezone"] == "Asia/Tokyo"
