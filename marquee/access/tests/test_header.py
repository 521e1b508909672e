"""Issue 15 item 4: the header shows the wallet, Buy tokens, notifications
(with the unread count) and followed performers; strangers see none of it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from marquee.performers.models import Follow
from marquee.schedule.models import Notification
from tests.factories import PerformerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _header(client) -> str:
    html = client.get(reverse("home")).content.decode()
    return html[html.index('<header class="topbar">') : html.index("</header>")]


def test_signed_in_header_has_wallet_notifications_and_follows(client, viewer, performer):
    other = PerformerFactory(user=UserFactory(username="quiet"), display_name="Quiet One")
    Follow.objects.create(user=viewer, performer=performer)
    for text in ("one", "two"):
        Notification.objects.create(user=viewer, kind=Notification.Kind.SHOW_REMINDER, text=text)
    Notification.objects.create(
        user=viewer, kind=Notification.Kind.SHOW_CANCELLED, text="old", read_at="2026-01-01T00:00Z"
    )
    client.force_login(viewer)
    header = _header(client)
    assert "<strong data-header-balance>0</strong> tokens" in header
    assert f'href="{reverse("wallet")}#buy">Buy tokens</a>' in header
    assert f'href="{reverse("notifications")}">Notifications <span class="count-badge" data-unread>2<' in header
    assert f'href="{reverse("room", args=[performer.user.username])}">{performer.display_name}</a>' in header
    assert other.display_name not in header


def test_anonymous_header_has_no_personal_links(age_ok_client):
    header = _header(age_ok_client)
    assert "data-header-balance" not in header and "Notifications" not in header and "Following" not in header
    assert "Log in" in header
