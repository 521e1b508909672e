"""Issue 15 item 7: a performer on their own room (or profile) sees no
Follow button and no tip panel, but a way to their dashboard; any other
signed-in viewer sees Follow and the tip panel and no such hint."""

from __future__ import annotations

import pytest
from django.urls import reverse

from marquee.compliance.testing import approve_age
from marquee.performers.models import TipMenuItem

pytestmark = pytest.mark.django_db

FOLLOW = 'class="inline follow-form"'
TIP_PANEL = 'id="tip-panel"'
HINT = "This is your room"


@pytest.fixture
def room_url(performer):
    TipMenuItem.objects.create(performer=performer, label="Wave", tokens=10)
    return reverse("room", args=[performer.username])


def test_the_performer_sees_a_dashboard_hint_instead_of_follow_and_tips(client, performer, room_url):
    approve_age(performer.user)
    client.force_login(performer.user)
    room = client.get(room_url)
    assert room.status_code == 200
    body = room.content.decode()
    assert FOLLOW not in body and TIP_PANEL not in body and "Wave" not in body
    assert HINT in body and f'href="{reverse("dashboard")}"' in body
    profile = client.get(reverse("profile", args=[performer.username])).content.decode()
    assert FOLLOW not in profile and f'href="{reverse("dashboard_profile")}"' in profile


def test_a_viewer_sees_follow_and_the_tip_panel(client, performer, viewer, room_url):
    approve_age(viewer)
    client.force_login(viewer)
    body = client.get(room_url).content.decode()
    assert FOLLOW in body and TIP_PANEL in body and "Wave" in body
    assert HINT not in body
    profile = client.get(reverse("profile", args=[performer.username])).content.decode()
    assert FOLLOW in profile and reverse("dashboard_profile") not in profile
