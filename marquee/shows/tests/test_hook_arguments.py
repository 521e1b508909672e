"""Issue 7: nginx-rtmp appends the publisher's own URL arguments after its
``addr``, ``clientid`` and ``name``; the hook must read nginx's values."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from marquee.audit.models import AuditEvent
from marquee.shows.models import Show
from tests.factories import PerformerFactory, UserFactory

SECRET = "hook-secret-for-tests"
NGINX_ADDR = "203.0.113.9"


@pytest.fixture(autouse=True)
def _hook_settings(settings):
    settings.MEDIA_HOOK_SECRET = SECRET


def nginx_body(call, *, name, clientid, client_args, extra=""):
    """The form body nginx-rtmp's notify module POSTs: its own fields first,
    then ``&`` and the publisher's URL arguments verbatim."""
    return (
        "app=live&flashver=FMLE%2F3.0%20(compatible%3B%20FMSc%2F1.0)&swfurl="
        f"&tcurl={quote('rtmp://127.0.0.1:1935/live', safe='')}&pageurl="
        f"&addr={NGINX_ADDR}&clientid={clientid}&call={call}{extra}&name={name}&type=live&{client_args}"
    )


def post_hook(client, event, body):
    return client.post(
        f"/media/hooks/{event}/?token={SECRET}",
        body,
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="127.0.0.1",
    )


@pytest.mark.django_db
def test_publish_hook_reads_nginx_values_not_the_appended_ones(client, performer, stream_key):
    other = PerformerFactory(user=UserFactory(username="other"))
    body = nginx_body(
        "publish",
        name="performer",
        clientid="7",
        client_args=f"key={stream_key}&addr=6.6.6.6&name=other&clientid=99",
    )
    response = post_hook(client, "publish", body)
    assert response.status_code == 200, response.content

    show = Show.objects.get(status=Show.Status.LIVE)
    assert show.performer_id == performer.pk and show.media_session == "7"
    assert not Show.objects.filter(performer=other).exists()
    event = AuditEvent.objects.get(action="media.publish_accepted")
    assert event.actor_id == performer.user_id
    assert event.ip == NGINX_ADDR
    assert "6.6.6.6" not in str(event.details) and "other" not in str(event.details)
    assert not AuditEvent.objects.filter(ip="6.6.6.6").exists()


@pytest.mark.django_db
def test_done_hook_with_forged_name_cannot_end_another_performers_show(client, performer, stream_key):
    post_hook(client, "publish", nginx_body("publish", name="performer", clientid="7", client_args=f"key={stream_key}"))
    show = Show.objects.get(status=Show.Status.LIVE)
    # A second publisher (session 8, refused or not) whose URL names the live
    # performer and the live session: its done hook must not end that show.
    body = nginx_body("publish_done", name="nobody", clientid="8", client_args="name=performer&clientid=7")
    post_hook(client, "publish_done", body)
    show.refresh_from_db()
    assert show.status == Show.Status.LIVE


@pytest.mark.django_db
def test_update_of_a_publisher_cannot_pass_as_a_player_by_appending_call(client, performer, stream_key):
    """Players' updates (the ladder's transcoder) are not checked; a stale
    publisher appending call=update_play to its URL still is (nginx's call comes first)."""
    post_hook(client, "publish", nginx_body("publish", name="performer", clientid="7", client_args=f"key={stream_key}"))
    body = nginx_body(
        "update_publish", name="performer", clientid="8", client_args="call=update_play", extra="&time=40"
    )
    assert post_hook(client, "update", body).status_code == 403
    assert AuditEvent.objects.filter(action="media.stream_cut").count() == 1
