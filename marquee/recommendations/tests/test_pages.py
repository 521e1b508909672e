from __future__ import annotations

from django.urls import reverse

from marquee.shows.models import Show
from tests.factories import ShowFactory


def row_of(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


def test_home_page_shows_a_personal_row(client, trained):
    client.force_login(trained["art_fans"][0])
    html = client.get(reverse("home")).content.decode()
    assert "Recommended for you" in html
    row = row_of(html, "recs-heading")
    assert max(row.index(f">A{i}<") for i in range(4)) < min(row.index(f">C{i}<") for i in range(4))


def test_anonymous_home_page_shows_popular_and_live(trained, age_ok_client):
    ShowFactory(performer=trained["artists"][3], status=Show.Status.LIVE, title="Soup night")
    # The grid shows the cooks: the popular row lists the other rooms, live first.
    html = age_ok_client.get(reverse("home") + "?tag=cooking").content.decode()
    assert "Popular right now" in html
    row = row_of(html, "recs-heading")
    assert row.index(">A3<") < row.index(">A0<")  # live first
    assert all(f">C{i}<" not in row for i in range(4))


def test_popular_row_never_repeats_the_grid(trained, age_ok_client):
    """Issue 15 item 9: the row used to list the same rooms as the grid below
    it.  With every room on the grid's page there is nothing else to show."""
    ShowFactory(performer=trained["cooks"][3], status=Show.Status.LIVE, title="Soup night")
    html = age_ok_client.get(reverse("home")).content.decode()
    grid = html.split('id="room-grid"')[1]
    assert all(f">{name}<" in grid for name in ("A0", "A1", "A2", "A3", "C0", "C1", "C2", "C3"))
    assert 'id="recs-heading"' not in html
    html = age_ok_client.get(reverse("home") + "?tag=art").content.decode()
    row, grid = row_of(html, "recs-heading"), html.split('id="room-grid"')[1]
    shown_in_row = {name for name in ("A0", "A1", "A2", "A3", "C0", "C1", "C2", "C3") if f">{name}<" in row}
    assert shown_in_row == {"C0", "C1", "C2", "C3"}
    assert not any(f">{name}<" in grid for name in shown_in_row)


def test_room_page_lists_similar_performers(trained, age_ok_client):
    html = age_ok_client.get(reverse("room", args=["c0"])).content.decode()
    section = row_of(html, "similar-heading")
    assert ">C0<" not in section  # never the room itself
    cooks = [section.index(f">C{i}<") for i in (1, 2, 3)]
    artists = [section.index(f">A{i}<") for i in range(4) if f">A{i}<" in section]
    assert artists and max(cooks) < min(artists)


def test_hide_button_on_personal_row_hides_the_performer(client, trained):
    from marquee.audit.models import AuditEvent
    from marquee.recommendations.models import ViewerBlock

    fan = trained["art_fans"][0]
    client.force_login(fan)
    row = row_of(client.get(reverse("home")).content.decode(), "recs-heading")
    hide_url = reverse("recommendations_hide", args=["a0"])
    assert f'hx-post="{hide_url}"' in row and 'aria-label="Hide A0 from my recommendations"' in row
    response = client.post(hide_url, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content == b""
    assert ViewerBlock.objects.filter(user=fan, performer__user__username="a0").count() == 1
    assert AuditEvent.objects.filter(action="recommendations.performer_hidden", actor_id=fan.pk).count() == 1
    row = row_of(client.get(reverse("home")).content.decode(), "recs-heading")
    assert ">A0<" not in row


def test_strangers_cannot_hide_and_the_popular_row_has_no_button(client, trained, age_ok_client):
    from marquee.recommendations.models import ViewerBlock

    html = age_ok_client.get(reverse("home") + "?tag=cooking").content.decode()
    assert "card-hide" not in row_of(html, "recs-heading")
    response = age_ok_client.post(reverse("recommendations_hide", args=["a0"]))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    client.force_login(trained["art_fans"][0])
    assert client.post(reverse("recommendations_hide", args=["nobody"])).status_code == 404
    assert client.get(reverse("recommendations_hide", args=["a0"])).status_code == 405
    assert not ViewerBlock.objects.exists()
