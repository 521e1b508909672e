"""Issue 15 item 8: quick tip buttons ask for confirmation unless the viewer
turned it off, a per-viewer setting on /me/ and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _quick_buttons(client, performer) -> str:
    page = client.get(reverse("room", args=[performer.user.username])).content.decode()
    start = page.index('id="tip-panel"')
    return page[start : page.index("</section>", start)]


def test_confirmation_is_on_by_default_and_names_the_amount(client, viewer, performer):
    performer.tip_menu.create(label="Wave", tokens=15)
    client.force_login(viewer)
    panel = _quick_buttons(client, performer)
    assert f'data-confirm="Tip 15 tokens to {performer.display_name} for “Wave”?"' in panel
    for amount in (5, 10, 25, 50, 100):
        assert f'value="{amount}" data-confirm="Tip {amount} tokens to {performer.display_name}?"' in panel


def test_account_page_turns_it_off_and_on(client, viewer, performer):
    client.force_login(viewer)
    page = client.get(reverse("account")).content.decode()
    assert 'name="confirm_tips" checked' in page
    assert client.post(reverse("account_tipping"), {}).status_code == 302  # unchecked box: off
    viewer.refresh_from_db()
    assert viewer.confirm_tips is False
    assert "data-confirm" not in _quick_buttons(client, performer)
    assert 'name="confirm_tips" checked' not in client.get(reverse("account")).content.decode()
    client.post(reverse("account_tipping"), {"confirm_tips": "on"})
    viewer.refresh_from_db()
    assert viewer.confirm_tips is True


def test_api_reads_and_changes_it(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("api_me")).json()["confirm_tips"] is True
    response = client.patch(reverse("api_me"), {"confirm_tips": False}, content_type="application/json")
    assert response.status_code == 200 and response.json()["confirm_tips"] is False
    viewer.refresh_from_db()
    assert viewer.confirm_tips is False and viewer.timezone == "UTC"


def test_api_bad_zone_changes_nothing_at_all(client, viewer):
    client.force_login(viewer)
    response = client.patch(
        reverse("api_me"), {"confirm_tips": False, "timezone": "Mars/Olympus"}, content_type="application/json"
    )
    assert response.status_code == 400
    viewer.refresh_from_db()
    assert viewer.confirm_tips is True and viewer.timezone == "UTC"
    empty = client.patch(reverse("api_me"), {}, content_type="application/json")
    assert empty.status_code == 400 and "error" in empty.json()


def test_strangers_cannot_change_it(client, viewer):
    response = client.post(reverse("account_tipping"), {})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert client.patch(reverse("api_me"), {"confirm_tips": False}, content_type="application/json").status_code in (
        401,
        403,
    )
    viewer.refresh_from_db()
    assert viewer.confirm_tips is True
    assert client.get(reverse("account_tipping")).status_code in (302, 405)
