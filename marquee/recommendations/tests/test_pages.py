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
    ShowFactory(performer=trained["cooks"][3], status=Show.Status.LIVE, title="Soup night")
    html = age_ok_client.get(reverse("home")).content.decode()
    assert "Popular right now" in html
    row = row_of(html, "recs-heading")
    assert row.index(">C3<") < row.index(">A0<")  # live first


def test_room_page_lists_similar_performers(trained, age_ok_client):
    html = age_ok_client.get(reverse("room", args=["c0"])).content.decode()
    section = row_of(html, "similar-heading")
    assert ">C0<" not in section  # never the room itself
    cooks = [section.index(f">C{i}<") for i in (1, 2, 3)]
    artists = [section.index(f">A{i}<") for i in range(4) if f">A{i}<" in section]
    assert artists and max(cooks) < min(artists)
