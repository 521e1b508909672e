"""Go-live notifications: each channel only when opted into for that
follow; Web Push checked end to end against a fake push service that
verifies the VAPID JWT signature and decrypts the payload like a browser."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.core import mail
from django.core.cache import cache

from marquee.performers.models import Follow
from marquee.schedule import golive
from marquee.schedule.golive_models import PushSubscription
from marquee.schedule.models import Notification
from marquee.shows import services
from marquee.shows.models import Show
from tests.factories import UserFactory

SUBJECT = "mailto:ops@marquee.test"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakePushService:
    """What a browser's push service does with a request: check the VAPID
    signature (RFC 8292) and keep the encrypted body.  Paths ending in
    /gone answer 410 (the subscription expired)."""

    def __init__(self):
        self.received = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                self.send_response(410 if self.path.endswith("/gone") else 201)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def verify_vapid(headers: dict, audience: str) -> tuple[dict, str]:
    """Returns (claims, k) once the JWT's ES256 signature checks out with the key ``k``."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = fields["t"], fields["k"]
    head_b64, claims_b64, signature_b64 = token.split(".")
    assert json.loads(unb64url(head_b64)) == {"typ": "JWT", "alg": "ES256"}
    signature = unb64url(signature_b64)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience and claims["sub"] == SUBJECT and claims["exp"] > time.time()
    return claims, key


class Browser:
    """A subscriber's keys: the push payload is encrypted to them."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.keys = {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def push_service(settings):
    service = FakePushService()
    vapid_private = ec.generate_private_key(ec.SECP256R1())
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(vapid_private.private_numbers().private_value.to_bytes(32, "big"))
    settings.WEBPUSH_VAPID_SUBJECT = SUBJECT
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    settings.WEBPUSH_ENDPOINT_SCHEMES = ["http"]
    service.vapid_public = b64url(
        vapid_private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    yield service
    service.close()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def go_live(performer, stream_key, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.start_publish(username=performer.user.username, key=stream_key, session="s1")
    assert decision
    return Show.objects.get(performer=performer, status=Show.Status.LIVE)


def follower(performer, *, app=False, email=False, push=False, **user):
    user = UserFactory(**user)
    Follow.objects.create(user=user, performer=performer, notify_app=app, notify_email=email, notify_push=push)
    return user


def subscribe(client, user, endpoint, browser, show_names=False):
    client.force_login(user)
    body = {"endpoint": endpoint, "keys": browser.keys, "show_names": show_names}
    response = client.post("/api/v1/me/push-subscriptions/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    client.logout()


def test_go_live_reaches_each_follower_only_by_the_channels_they_chose(
    client, performer, stream_key, push_service, django_capture_on_commit_callbacks
):
    app_only = follower(performer, app=True)
    email_only = follower(performer, email=True)
    nothing = follower(performer)
    pushed, named = follower(performer, push=True), follower(performer, push=True)
    stranger = UserFactory()  # follows nobody, has a device
    browsers = {user.pk: Browser() for user in (pushed, named, stranger, email_only)}
    subscribe(client, pushed, f"{push_service.origin}/push/pushed", browsers[pushed.pk])
    subscribe(client, named, f"{push_service.origin}/push/named", browsers[named.pk], show_names=True)
    subscribe(client, stranger, f"{push_service.origin}/push/stranger", browsers[stranger.pk])
    subscribe(client, email_only, f"{push_service.origin}/push/email-only", browsers[email_only.pk])

    show = go_live(performer, stream_key, django_capture_on_commit_callbacks)

    assert list(Notification.objects.filter(show=show).values_list("user_id", "kind")) == [(app_only.pk, "show_live")]
    assert [m.to for m in mail.outbox] == [[email_only.email]]
    assert "Performer One" not in mail.outbox[0].subject  # discreet subject (MAIL_DISCREET)
    assert sorted(r["path"] for r in push_service.received) == ["/push/named", "/push/pushed"]
    for request in push_service.received:
        _claims, key = verify_vapid(request["headers"], push_service.origin)
        assert key == push_service.vapid_public == golive.vapid_public_key()
        assert request["headers"]["content-encoding"] == "aes128gcm"
        owner = pushed if request["path"].endswith("pushed") else named
        preview = browsers[owner.pk].decrypt(request["body"])
        assert preview["url"] == "/rooms/performer/"
        if owner == named:
            assert preview["title"] == "Performer One is live"
        else:
            assert preview == {
                "title": "Someone you follow is live",
                "body": "Tap to watch.",
                "url": "/rooms/performer/",
            }
            assert "Performer One" not in json.dumps(preview)
    assert not Notification.objects.filter(user=nothing).exists()


def test_a_forged_signature_is_refused_by_the_fake_service(push_service):
    # The check can fail: a JWT signed with another key does not verify.
    from cryptography.exceptions import InvalidSignature
    from py_vapid import Vapid

    other = Vapid()
    other.generate_keys()
    headers = other.sign({"aud": push_service.origin, "sub": SUBJECT, "exp": int(time.time()) + 600})
    token = headers["Authorization"].split("t=")[1].split(",")[0]
    forged = f"vapid t={token},k={push_service.vapid_public}"
    with pytest.raises(InvalidSignature):
        verify_vapid({"authorization": forged}, push_service.origin)


def test_a_rerun_tells_nobody_twice_and_a_gone_subscription_is_dropped(
    client, performer, stream_key, push_service, django_capture_on_commit_callbacks
):
    user = follower(performer, app=True, email=True, push=True)
    subscribe(client, user, f"{push_service.origin}/push/gone", Browser())
    show = go_live(performer, stream_key, django_capture_on_commit_callbacks)
    assert len(push_service.received) == 1 and not PushSubscription.objects.exists()  # 410: forgotten

    assert golive.notify_followers_live(show_id=show.pk) == {"app": 0, "email": 0, "push": 0}
    assert Notification.objects.filter(user=user, show=show).count() == 1 and len(mail.outbox) == 1


def test_nothing_is_sent_for_a_show_that_already_ended(performer, stream_key, django_capture_on_commit_callbacks):
    follower(performer, app=True, email=True)
    show = go_live(performer, stream_key, django_capture_on_commit_callbacks)
    Show.objects.filter(pk=show.pk).update(status=Show.Status.ENDED)
    cache.clear()
    Notification.objects.all().delete()
    mail.outbox.clear()
    assert golive.notify_followers_live(show_id=show.pk) == {"app": 0, "email": 0, "push": 0}
    assert mail.outbox == [] and not Notification.objects.exists()


def test_opt_ins_are_per_follow_and_only_for_your_own_follows(client, performer, viewer):
    url = "/api/v1/me/follows/performer/notifications/"
    client.force_login(viewer)
    assert client.get(url).status_code == 404  # not following
    refused = client.put(url, {"app": True, "email": True, "push": True}, content_type="application/json")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_following"
    assert not Follow.objects.exists()
    Follow.objects.create(user=viewer, performer=performer)
    assert client.get(url).json() == {"app": False, "email": False, "push": False}  # opt-in: all off
    done = client.put(url, {"app": True, "email": False, "push": True}, content_type="application/json")
    assert done.json() == {"app": True, "email": False, "push": True}
    follow = Follow.objects.get(user=viewer)
    assert (follow.notify_app, follow.notify_email, follow.notify_push) == (True, False, True)
    client.logout()
    assert client.put(
        url, {"app": False, "email": False, "push": False}, content_type="application/json"
    ).status_code in (
        401,
        403,
    )
    follow.refresh_from_db()
    assert follow.notify_app and follow.notify_push


@pytest.mark.parametrize(
    "endpoint",
    ["http://10.0.0.5/push", "https://internal.example/push", "https://fcm.googleapis.com.evil.example/x", "ftp://x"],
)
def test_a_subscription_cannot_aim_the_worker_at_another_host(client, viewer, endpoint):
    client.force_login(viewer)
    body = {"endpoint": endpoint, "keys": Browser().keys}
    response = client.post("/api/v1/me/push-subscriptions/", body, content_type="application/json")
    assert response.status_code == 400
    assert not PushSubscription.objects.exists()


def test_bad_keys_are_refused_and_anonymous_cannot_subscribe(client, viewer):
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": {"p256dh": "short", "auth": "x"}}
    assert client.post("/api/v1/me/push-subscriptions/", body, content_type="application/json").status_code in (
        401,
        403,
    )
    client.force_login(viewer)
    refused = client.post("/api/v1/me/push-subscriptions/", body, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "push_key_invalid"
    assert not PushSubscription.objects.exists()
    body["keys"] = Browser().keys
    assert client.post("/api/v1/me/push-subscriptions/", body, content_type="application/json").status_code == 201
    assert PushSubscription.objects.get().user == viewer


def test_web_page_saves_opt_ins_and_the_service_worker_is_served_from_the_root(client, performer, viewer):
    follow = Follow.objects.create(user=viewer, performer=performer)
    client.force_login(viewer)
    page = client.get("/me/live-alerts/")
    assert page.status_code == 200 and b"Performer One" in page.content
    assert client.post("/me/live-alerts/", {f"f{follow.pk}-email": "on"}).status_code == 302
    follow.refresh_from_db()
    assert (follow.notify_app, follow.notify_email, follow.notify_push) == (False, True, False)
    worker = client.get("/push-sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    assert b"showNotification" in worker.content


@pytest.mark.parametrize("subdivision", ["", "TX"])
def test_a_performer_who_blocks_a_region_is_announced_to_nobody(
    client, performer, stream_key, push_service, subdivision, django_capture_on_commit_callbacks
):
    # The worker cannot tell where a follower is, and one may be where the
    # performer hides (a region block, or travel mode, which adds one).
    performer.region_blocks.create(country="US", subdivision=subdivision)
    user = follower(performer, app=True, email=True, push=True)
    subscribe(client, user, f"{push_service.origin}/push/blocked", Browser())

    show = go_live(performer, stream_key, django_capture_on_commit_callbacks)

    assert golive.notify_followers_live(show_id=show.pk) == {"app": 0, "email": 0, "push": 0}
    assert not Notification.objects.filter(show=show).exists()
    assert mail.outbox == [] and push_service.received == []
    performer.region_blocks.all().delete()  # the block lifted, the next run tells them
    assert golive.notify_followers_live(show_id=show.pk) == {"app": 1, "email": 1, "push": 1}
