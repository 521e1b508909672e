"""Issue 15 item 12: a missing room is a styled 404 page, also with DEBUG on
(``make run``), never Django's technical page."""

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
