"""Media hooks (nginx-rtmp on_publish / on_update / on_publish_done) without
a media server: secret, address, every refusal, audit rows, nothing changed."""

from __future__ import annotations

import datetime

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.performers.models import ShowKind
from marquee.performers.services import regenerate_stream_key
from marquee.shows import services
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory, enable_totp

SECRET = "hook-secret-for-tests"


@pytest.fixture(autouse=True)
def _hook_settings(settings):
    settings.MEDIA_HOOK_SECRET = SECRET


def hook(client, event, *, token=SECRET, addr="127.0.0.1", **data):
    fields = {"call": event, "app": "live", "addr": "203.0.113.9", **data}
    url = f"/media/hooks/{event}/" + (f"?token={token}" if token is not None else "")
    return client.post(url, fields, REMOTE_ADDR=addr)


def publish(client, username, key, session="1", **kwargs):
    return hook(client, "publish", name=username, key=key, clientid=session, **kwargs)


def snapshot():
    """Everything a refused hook must leave untouched."""
    return (
        list(Show.objects.order_by("pk").values_list("pk", "status", "media_session", "ended_at")),
        AuditEvent.objects.exclude(action="media.publish_refused").count(),
    )


def audit_actions(prefix="media."):
    # In the order written: ``sequence`` counts within one of the parallel
    # chains (AUDIT_CHAINS on PostgreSQL), so it does not order rows across them.
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("pk").values_list("action", flat=True))


def test_valid_key_goes_live_with_audit_and_event(
    client, performer, stream_key, room_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = publish(client, "performer", stream_key)
    assert response.status_code == 200
    show = Show.objects.get(performer=performer, status=Show.Status.LIVE)
    assert show.media_session == "1"
    assert show.kind == ShowKind.PUBLIC
    assert show.started_at is not None
    event = AuditEvent.objects.get(action="media.publish_accepted")
    assert event.actor_id == performer.user_id
    assert event.details["show"] == show.pk
    assert event.ip == "203.0.113.9"
    assert stream_key not in str(event.details)
    assert room_events == [
        ("performer", {"type": "show_started", "show_id": show.pk, "kind": "public", "title": show.title})
    ]


@pytest.mark.parametrize(
    ("token", "addr"),
    [(None, "127.0.0.1"), ("wrong", "127.0.0.1"), ("", "127.0.0.1"), (SECRET, "10.1.2.3")],
    ids=["no-secret", "wrong-secret", "empty-secret", "foreign-address"],
)
@pytest.mark.parametrize("event", ["publish", "update", "publish_done"])
def test_hook_without_secret_or_from_elsewhere_is_refused(client, performer, stream_key, token, addr, event):
    live = ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), media_session="1")
    before = snapshot()
    response = hook(client, event, token=token, addr=addr, name="performer", key=stream_key, clientid="1")
    assert response.status_code == 403
    assert snapshot() == before
    live.refresh_from_db()
    assert live.status == Show.Status.LIVE


def test_allowed_addresses_come_from_settings(client, settings, performer, stream_key):
    import ipaddress

    settings.MEDIA_HOOK_ALLOWED_IPS = [ipaddress.ip_network("10.0.0.0/8")]
    assert publish(client, "performer", stream_key, addr="127.0.0.1").status_code == 403
    assert publish(client, "performer", stream_key, addr="10.1.2.3").status_code == 200


def test_unknown_event_and_get_are_rejected(client):
    assert hook(client, "play", name="x", clientid="1").status_code == 404
    assert client.get(f"/media/hooks/publish/?token={SECRET}").status_code == 405


def test_missing_fields_are_a_400(client, performer, stream_key):
    assert hook(client, "publish", key=stream_key, clientid="1").status_code == 400
    assert not Show.objects.exists()


def _unverified(performer):
    performer.verification_status = "pending"
    performer.save()


def _suspended(performer):
    performer.is_suspended = True
    performer.save()


def _no_2fa(performer):
    Authenticator.objects.filter(user=performer.user).delete()


@pytest.mark.parametrize(
    ("name", "key", "change", "code"),
    [
        ("performer", "not-the-key", None, "bad_key"),
        ("performer", "", None, "bad_key"),
        ("nobody", "KEY", None, "unknown_stream"),
        ("performer", "KEY", _unverified, "not_verified"),
        ("performer", "KEY", _suspended, "suspended"),
        ("performer", "KEY", _no_2fa, "two_factor_required"),
    ],
)
def test_publish_refusals_change_nothing_but_the_audit_log(client, performer, stream_key, name, key, change, code):
    if change:
        change(performer)
    other = PerformerFactory()
    enable_totp(other.user)
    other_show = ShowFactory(performer=other, status=Show.Status.LIVE, started_at=timezone.now(), media_session="9")
    scheduled = ShowFactory(performer=performer, scheduled_start=timezone.now())
    before = snapshot()
    response = publish(client, name, stream_key if key == "KEY" else key)
    assert response.status_code == 403
    assert snapshot() == before
    refused = AuditEvent.objects.get(action="media.publish_refused")
    assert refused.details["code"] == code
    assert refused.details["stream"] == name
    scheduled.refresh_from_db()
    other_show.refresh_from_db()
    assert scheduled.status == Show.Status.SCHEDULED
    assert other_show.status == Show.Status.LIVE


def test_old_key_stops_working_at_once(client, performer, stream_key):
    new_key = regenerate_stream_key(performer=performer)
    assert publish(client, "performer", stream_key).status_code == 403
    assert not Show.objects.filter(status=Show.Status.LIVE).exists()
    assert publish(client, "performer", new_key).status_code == 200


def test_second_publish_while_live_is_refused_and_first_keeps_running(client, performer, stream_key):
    assert publish(client, "performer", stream_key, session="1").status_code == 200
    live = Show.objects.get(status=Show.Status.LIVE)
    assert publish(client, "performer", stream_key, session="2").status_code == 403
    assert AuditEvent.objects.get(action="media.publish_refused").details["code"] == "already_live"
    # The refused connection's publish-done must not end the running show.
    assert hook(client, "publish_done", name="performer", clientid="2").status_code == 200
    live.refresh_from_db()
    assert live.status == Show.Status.LIVE
    assert live.media_session == "1"
    assert Show.objects.count() == 1


def test_scheduled_show_starting_soon_is_the_one_that_goes_live(client, performer, stream_key):
    soon = ShowFactory(
        performer=performer,
        kind="premium",
        price_cents=799,
        scheduled_start=timezone.now() + datetime.timedelta(minutes=10),
    )
    later = ShowFactory(performer=performer, scheduled_start=timezone.now() + datetime.timedelta(days=2))
    assert publish(client, "performer", stream_key).status_code == 200
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.status == Show.Status.LIVE
    assert soon.kind == "premium"
    assert later.status == Show.Status.SCHEDULED
    assert Show.objects.count() == 2


def test_without_a_scheduled_show_one_is_created_from_room_defaults(client, performer, stream_key):
    performer.default_show_kind = ShowKind.PREMIUM
    performer.default_ticket_price_cents = 1250
    performer.room_topic = "Board games night"
    performer.save()
    ShowFactory(performer=performer, scheduled_start=timezone.now() + datetime.timedelta(days=3))
    assert publish(client, "performer", stream_key).status_code == 200
    show = Show.objects.get(status=Show.Status.LIVE)
    assert (show.kind, show.price_cents, show.title) == ("premium", 1250, "Board games night")


def _go_live(client, key):
    assert publish(client, "performer", key).status_code == 200
    return Show.objects.get(status=Show.Status.LIVE)


def test_update_keeps_a_good_stream(client, performer, stream_key):
    show = _go_live(client, stream_key)
    assert hook(client, "update", name="performer", clientid="1").status_code == 200
    show.refresh_from_db()
    assert show.status == Show.Status.LIVE
    assert not AuditEvent.objects.filter(action="media.stream_cut").exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_suspended, "suspended"),
        (_unverified, "not_verified"),
        (lambda p: regenerate_stream_key(performer=p), "key_regenerated"),
    ],
    ids=["suspended", "unverified", "key-regenerated"],
)
def test_update_cuts_the_stream(
    client, performer, stream_key, room_events, django_capture_on_commit_callbacks, change, reason
):
    show = _go_live(client, stream_key)
    change(performer)
    with django_capture_on_commit_callbacks(execute=True):
        response = hook(client, "update", name="performer", clientid="1")
    assert response.status_code == 403
    show.refresh_from_db()
    assert show.status == Show.Status.ENDED
    assert show.ended_at is not None
    cut = AuditEvent.objects.get(action="media.stream_cut")
    assert cut.details["reason"] == reason
    assert [event["type"] for _, event in room_events] == ["show_ended"]


def test_update_of_the_transcoders_play_session_is_not_a_cut(client, performer, stream_key):
    """nginx-rtmp sends on_update for play sessions too (call=update_play): the
    ladder's transcoder reads the stream back under its own client id."""
    publish(client, "performer", stream_key, session="1")
    before = snapshot()
    response = hook(client, "update", name="performer", clientid="3", call="update_play", time="40")
    assert response.status_code == 200
    assert snapshot() == before
    assert "media.stream_cut" not in audit_actions()


def test_update_from_a_stale_connection_is_cut_without_touching_the_live_show(client, performer, stream_key):
    show = _go_live(client, stream_key)
    assert hook(client, "update", name="performer", clientid="77").status_code == 403
    show.refresh_from_db()
    assert show.status == Show.Status.LIVE


def test_early_update_racing_the_publish_answer_is_not_a_cut(client, performer, stream_key):
    before = snapshot()
    assert hook(client, "update", name="performer", clientid="5", time="1").status_code == 200
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action="media.stream_cut").exists()
    # Later, a stream without a live show is cut.
    assert hook(client, "update", name="performer", clientid="5", time="40").status_code == 403
    assert AuditEvent.objects.get(action="media.stream_cut").details["reason"] == "not_live"


def test_update_after_the_show_was_ended_elsewhere_cuts(client, performer, stream_key):
    show = _go_live(client, stream_key)
    Show.objects.filter(pk=show.pk).update(status=Show.Status.ENDED)
    assert hook(client, "update", name="performer", clientid="1", time="45").status_code == 403


def test_publish_done_ends_the_show_once(
    client, performer, stream_key, room_events, django_capture_on_commit_callbacks
):
    show = _go_live(client, stream_key)
    with django_capture_on_commit_callbacks(execute=True):
        assert hook(client, "publish_done", name="performer", clientid="1").status_code == 200
        assert hook(client, "publish_done", name="performer", clientid="1").status_code == 200
    show.refresh_from_db()
    assert show.status == Show.Status.ENDED
    assert audit_actions() == ["media.publish_accepted", "media.publish_done"]
    assert [event["type"] for _, event in room_events] == ["show_ended"]
    # And the performer can go live again.
    assert publish(client, "performer", stream_key, session="2").status_code == 200


def test_orphaned_live_shows_end_when_the_media_server_restarts(performer):
    show = ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), media_session="4")
    assert services.end_orphaned_shows() == 1
    show.refresh_from_db()
    assert show.status == Show.Status.ENDED
    assert services.end_orphaned_shows() == 0


def test_stranger_cannot_publish_as_someone_else(client, performer, stream_key):
    stranger = PerformerFactory(user=UserFactory(username="stranger"))
    enable_totp(stranger.user)
    stranger_key = regenerate_stream_key(performer=stranger)
    before = snapshot()
    assert publish(client, "performer", stranger_key).status_code == 403
    assert snapshot() == before


def test_show_with_an_unverified_co_performer_does_not_go_live(client, performer, stream_key):
    from marquee.compliance.models import ShowPerformer
    from marquee.performers.models import Performer

    soon = ShowFactory(performer=performer, scheduled_start=timezone.now() + datetime.timedelta(minutes=5))
    guest = PerformerFactory(display_name="Guest Star")
    ShowPerformer.objects.create(show=soon, performer=guest)
    Performer.objects.filter(pk=guest.pk).update(verification_status=Performer.Verification.REJECTED)
    before = snapshot()
    response = publish(client, "performer", stream_key)
    assert response.status_code == 403
    assert snapshot() == before
    refusal = AuditEvent.objects.filter(action="media.publish_refused").latest("id")
    assert refusal.details["code"] == "co_performer_not_verified"
    Performer.objects.filter(pk=guest.pk).update(verification_status=Performer.Verification.VERIFIED)
    assert publish(client, "performer", stream_key).status_code == 200
    soon.refresh_from_db()
    assert soon.status == Show.Status.LIVE
