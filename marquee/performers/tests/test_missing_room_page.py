"""Issue 15 item 12: a missing room is a styled 404 page, also with DEBUG on
(``make run``), never Django's technical page.  Item 7 (part): no Follow or
tip panel on the performer's own room."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("name", ["room", "profile"])
def test_missing_room_is_a_styled_404(age_ok_client, settings, debug, name):
    settings.DEBUG = debug
    response = age_ok_client.get(reverse(name, args=["nobody-here"]))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This room does not exist." in html and "Back to the rooms" in html
    assert "Page not found" not in html and "URLconf" not in html


def test_missing_room_api_answer_is_json(age_ok_client):
    response = age_ok_client.get(reverse("room", args=["nobody-here"]), HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_performer_sees_no_follow_or_tip_panel_on_own_room(client, performer, viewer):
    url = reverse("room", args=[performer.user.username])
    client.force_login(performer.user)
    own = client.get(url).content.decode()
    assert 'id="tip-panel"' not in own and "follow-form" not in own
    assert f'href="{reverse("dashboard")}"' in own
    client.force_login(viewer)
    theirs = client.get(url).content.decode()
    assert 'id="tip-panel"' in theirs and "follow-form" in theirs
