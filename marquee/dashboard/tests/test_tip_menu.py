"""Issue 15 item 7: the tip menu is edited, reordered (up/down buttons, htmx
or plain forms) and trimmed from the dashboard and the API; the order is the
one viewers see in the room's tip panel; limits come from billing.prices.
Strangers are refused and nothing changes; bad input is a field error."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from marquee.audit.models import AuditEvent
from marquee.billing import prices
from marquee.performers.models import TipMenuItem
from tests.factories import PerformerFactory

HX = {"HTTP_HX_REQUEST": "true"}
URL = "/dashboard/room/tip-menu/"


@pytest.fixture
def menu(performer):
    return [
        TipMenuItem.objects.create(performer=performer, label=label, tokens=tokens, position=position)
        for position, (label, tokens) in enumerate([("Wave", 10), ("Song", 50), ("Dance", 100)])
    ]


def _labels(performer):
    return list(performer.tip_menu.values_list("label", flat=True))


def _state():
    return list(TipMenuItem.objects.order_by("pk").values()), AuditEvent.objects.count()


def _order_in(html: str, labels) -> list[str]:
    """The labels in the order they appear in a page."""
    return sorted(labels, key=lambda label: html.index(f">{label} <"))


def test_move_edit_and_add_with_htmx_and_the_room_follows(client, performer, menu):
    client.force_login(performer.user)
    response = client.post(URL, {"down": menu[0].pk}, **HX)
    assert response.status_code == 200 and 'id="tip-menu-panel"' in response.content.decode()
    assert _labels(performer) == ["Song", "Wave", "Dance"]
    # The button just pressed keeps the keyboard focus after the swap.
    assert re.search(rf'name="down" value="{menu[0].pk}"[^>]*autofocus', response.content.decode())
    client.post(URL, {"up": menu[2].pk}, **HX)
    assert _labels(performer) == ["Song", "Dance", "Wave"]
    response = client.post(URL, {"edit": menu[1].pk, "label": "Play a song", "tokens": "75"}, **HX)
    assert response.status_code == 200
    client.post(URL, {"label": "Spin", "tokens": "5"}, **HX)
    assert list(performer.tip_menu.values_list("label", "tokens")) == [
        ("Play a song", 75),
        ("Dance", 100),
        ("Wave", 10),
        ("Spin", 5),
    ]
    assert AuditEvent.objects.filter(action="room.tip_menu_reordered").count() == 2
    assert AuditEvent.objects.filter(action="room.tip_menu_changed").count() == 1
    # A viewer's room page lists the items in that order, not by price.
    client.logout()
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    room = client.get(reverse("room", args=[performer.username])).content.decode()
    assert _order_in(room, ["Play a song", "Dance", "Wave", "Spin"]) == ["Play a song", "Dance", "Wave", "Spin"]


def test_moving_past_either_end_changes_nothing(client, performer, menu):
    client.force_login(performer.user)
    before = _state()
    assert client.post(URL, {"up": menu[0].pk}, **HX).status_code == 200
    assert client.post(URL, {"down": menu[2].pk}, **HX).status_code == 200
    assert _state() == before
    page = client.get(reverse("dashboard_room")).content.decode()
    # The buttons that cannot move are disabled, so the keyboard skips them.
    assert re.search(rf'name="up" value="{menu[0].pk}"[^>]*disabled', page)
    assert re.search(rf'name="down" value="{menu[2].pk}"[^>]*disabled', page)


def test_removing_then_adding_puts_the_new_item_last(client, performer, menu):
    client.force_login(performer.user)
    client.post(URL, {"remove": menu[1].pk})
    client.post(URL, {"label": "Spin", "tokens": "5"})
    assert _labels(performer) == ["Wave", "Dance", "Spin"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"label": "Wave", "tokens": str(settings.TIP_MENU_MAX_TOKENS + 1)}, "tokens", "tokens"),
        ({"label": "Wave", "tokens": "0"}, "tokens", "tokens"),
        ({"label": "Wave", "tokens": "lots"}, "tokens", "Enter a whole number."),
        ({"label": "   ", "tokens": "10"}, "label", "This field is required."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_input_is_shown_at_the_field_and_nothing_changes(client, performer, menu, data, field, message, htmx):
    if message == "tokens":  # the platform's own wording, from its one limits module
        with pytest.raises(prices.PriceError) as refused:
            prices.check_tip_menu_tokens(int(data["tokens"]))
        message = refused.value.message
    client.force_login(performer.user)
    before = _state()
    extra = HX if htmx else {}
    for post in ({**data, "edit": menu[1].pk}, data):  # editing an item, adding one
        response = client.post(URL, post, **extra)
        assert response.status_code == 422
        body = response.content.decode()
        form_id = f"tip{menu[1].pk}-{field}" if "edit" in post else f"id_{field}"
        # The error sits next to its input, in the form that was sent.
        match = re.search(rf'<ul class="errorlist"[^>]*id="{form_id}_error"[^>]*>(.*?)</ul>', body, re.S)
        assert match and message in match.group(1), body
        assert _state() == before


def test_strangers_are_refused_and_nothing_changes(client, performer, menu, outsider):
    before = _state()
    posts = [
        {"edit": menu[0].pk, "label": "Mine", "tokens": "1"},
        {"up": menu[1].pk},
        {"down": menu[0].pk},
        {"remove": menu[0].pk},
        {"label": "Injected", "tokens": "1"},
    ]
    for post in posts:
        assert client.post(URL, post).status_code == 302  # anonymous: to the login page
    client.force_login(outsider)
    for post in posts:
        assert client.post(URL, post, **HX).status_code == 403
    other = PerformerFactory()
    client.force_login(other.user)
    for post in posts[:3]:
        assert client.post(URL, post, **HX).status_code == 404
    client.post(URL, posts[3], **HX)  # removing someone else's item removes nothing
    assert _state() == before


def test_api_edits_and_reorders(performer, menu):
    api = APIClient()
    api.force_authenticate(performer.user)
    base = "/api/v1/dashboard/room/tip-menu/"
    response = api.patch(f"{base}{menu[0].pk}/", {"tokens": 15}, format="json")
    assert response.status_code == 200 and response.json() == {"id": menu[0].pk, "label": "Wave", "tokens": 15}
    order = [menu[2].pk, menu[0].pk, menu[1].pk]
    response = api.put(f"{base}order/", {"order": order}, format="json")
    assert response.status_code == 200 and [item["id"] for item in response.json()] == order
    assert [item["id"] for item in api.get(base).json()] == order


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("patch", "{first}/", {"tokens": 0}, "bad_tokens"),
        ("patch", "{first}/", {"label": ""}, None),
        ("put", "order/", {"order": "{partial}"}, "bad_order"),
        ("put", "order/", {"order": "{doubled}"}, "bad_order"),
        ("put", "order/", {"order": "nope"}, None),
    ],
)
def test_api_bad_input_is_a_400_and_nothing_changes(performer, menu, method, path, body, code):
    api = APIClient()
    api.force_authenticate(performer.user)
    ids = [item.pk for item in menu]
    fill = {"{partial}": ids[:2], "{doubled}": [ids[0], ids[0], ids[1]]}
    body = {key: fill.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    before = _state()
    response = getattr(api, method)("/api/v1/dashboard/room/tip-menu/" + path.format(first=ids[0]), body, format="json")
    assert response.status_code == 400
    if code:
        assert response.json()["error"]["code"] == code
    assert _state() == before


def test_api_refuses_other_performers_and_viewers(performer, menu, outsider):
    api = APIClient()
    before = _state()
    for who, status in ((outsider, 403), (PerformerFactory().user, 404)):
        api.force_authenticate(who)
        assert api.patch(
            f"/api/v1/dashboard/room/tip-menu/{menu[0].pk}/", {"tokens": 1}, format="json"
        ).status_code == (status)
    api.force_authenticate(outsider)
    order = [menu[2].pk, menu[1].pk, menu[0].pk]
    assert api.put("/api/v1/dashboard/room/tip-menu/order/", {"order": order}, format="json").status_code == 403
    other = PerformerFactory()
    api.force_authenticate(other.user)
    # Another performer's reorder only knows their own (empty) menu.
    assert api.put("/api/v1/dashboard/room/tip-menu/order/", {"order": order}, format="json").status_code == 400
    assert _state() == before
