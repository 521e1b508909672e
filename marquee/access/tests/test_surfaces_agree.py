"""The access table: every kind of viewer × every kind of show × every
surface.  Whatever the surface (room page, room API, thumbnail, chat join,
checkout), a viewer gets the same answer, because they all ask
``marquee.access``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from marquee.access import selectors as access
from marquee.billing import services as billing
from marquee.billing.models import Purchase
from marquee.compliance.tests.conftest import geoip_db  # noqa: F401 (fixture)
from marquee.lib.geo import locate
from marquee.performers.models import RegionBlock
from marquee.shows import thumbnails
from marquee.shows.models import Show
from tests.factories import PurchaseFactory, ShowFactory, UserFactory
from tests.support.compliance import CALIFORNIA_V4, GERMANY_V4, TEXAS_V4, approve_age

pytestmark = pytest.mark.django_db

KINDS = ["public", "premium", "subscribers", "private"]
PRODUCT = {"premium": "ticket", "subscribers": "subscription", "private": "private"}

# Who may watch which kind of show (the rule, written out by hand).
MAY_WATCH = {
    "anonymous, no gate": set(),
    "anonymous, gated": {"public"},
    "adult": {"public"},
    "unverified age in a verification state": set(),
    "region-blocked": set(),
    "performer": set(KINDS),
    "ticket holder": {"public", "premium", "private"},
    "subscriber": {"public", "subscribers"},
}
# Who may not even enter the room, and what stops them.
KEPT_OUT = {
    "anonymous, no gate": "age gate",
    "unverified age in a verification state": "age verification",
    "region-blocked": "hidden",
}


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path, geoip_db):  # noqa: F811
    settings.MEDIA_PUBLIC_URL = "http://media.test:8081"
    settings.MEDIA_PLAYBACK_SECRET = "playback-secret"
    settings.MEDIA_VAR_DIR = tmp_path
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_WEBHOOK_SECRET = "test-sandbox-secret"
    settings.PAYMENT_PROVIDER = "sandbox"


def _pay(user, **fields):
    purchase = PurchaseFactory(user=user, **fields)
    billing.sandbox_complete_checkout(purchase=purchase, pay=True)


def _personas(performer, show):
    """name → (client, user or None, ip, declared at the gate)."""
    RegionBlock.objects.create(performer=performer, country="DE")
    adult, holder, subscriber = UserFactory(), UserFactory(), UserFactory()
    for user in (adult, holder, subscriber):
        approve_age(user)
    if show.kind in ("premium", "private"):
        _pay(
            holder,
            product="ticket" if show.kind == "premium" else "private",
            show=show,
            performer=performer,
            amount_cents=999,
        )
    _pay(subscriber, product="subscription", performer=performer, amount_cents=performer.subscription_price_cents)
    people = {
        "anonymous, no gate": (None, CALIFORNIA_V4, False),
        "anonymous, gated": (None, CALIFORNIA_V4, True),
        "adult": (adult, CALIFORNIA_V4, False),
        "unverified age in a verification state": (UserFactory(), TEXAS_V4, False),
        "region-blocked": (UserFactory(), GERMANY_V4, False),
        "performer": (performer.user, CALIFORNIA_V4, False),
        "ticket holder": (holder, CALIFORNIA_V4, False),
        "subscriber": (subscriber, CALIFORNIA_V4, False),
    }
    out = {}
    for name, (user, ip, declared) in people.items():
        client = Client(REMOTE_ADDR=ip)
        if user is not None:
            client.force_login(user)
        if declared:
            session = client.session
            session["age_gate_passed"] = True
            session.save()
        out[name] = (client, user, ip, declared)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_every_surface_gives_the_same_answer(performer, kind):
    show = ShowFactory(
        performer=performer,
        kind=kind,
        price_cents=799 if kind == "premium" else 0,
        status=Show.Status.LIVE,
        started_at=timezone.now(),
    )
    frame = thumbnails.thumbnail_path("performer")
    frame.parent.mkdir(parents=True, exist_ok=True)
    frame.write_bytes(b"\xff\xd8frame")
    for name, (client, user, ip, declared) in _personas(performer, show).items():
        may_watch = kind in MAY_WATCH[name]
        kept_out = KEPT_OUT.get(name)
        seen = {}

        page = client.get("/rooms/performer/")
        api = client.get("/api/v1/rooms/performer/")
        thumb = client.get("/rooms/performer/thumbnail.jpg")
        chat_api = client.get("/api/v1/rooms/performer/messages/")
        # The chat socket's join asks exactly this (marquee/chat/consumers.py).
        chat_join = access.chat(viewer=user, username="performer", location=locate(ip), age_gate_passed=declared)

        if kept_out == "hidden":
            seen = {"page": page.status_code, "api": api.status_code, "thumb": thumb.status_code}
            assert seen == {"page": 404, "api": 404, "thumb": 404}, name
        elif kept_out == "age verification":
            assert page.status_code == thumb.status_code == 302 and "/verify-age/" in page["Location"], name
            assert api.status_code == 403 and api.json()["error"]["code"] == "age_verification_required", name
        elif kept_out == "age gate":
            assert page.status_code == thumb.status_code == 302 and "/age-gate/" in page["Location"], name
            # The API is not redirected; it answers, without a playback URL.
            assert api.status_code == 200 and api.json()["denied"]["code"] == "age_gate", name
        else:
            assert page.status_code == 200 and api.status_code == 200, name
            html = page.content.decode()
            assert ("autoplay>" in html) is may_watch, name  # the player's first paint
            assert ("data-paywall hidden" not in html) is (not may_watch), name
            assert thumb.status_code == (200 if may_watch else 404), name
        body = api.json() if api.status_code == 200 else {}
        assert bool(body.get("playback_url")) is may_watch, name
        assert bool(body.get("paywall")) is (not may_watch and not kept_out and kind != "public"), name
        assert bool(chat_join.decision) is may_watch, (name, chat_join.decision)
        assert (chat_api.status_code == 200) is may_watch, (name, chat_api.status_code)

        if kind != "public":
            offer = {"product": PRODUCT[kind], "show": show.pk, "performer": "performer"}
            before = Purchase.objects.count()
            checkout = client.post("/api/v1/checkout/", offer, content_type="application/json")
            # What the paywall offers is exactly what can be bought: by a
            # logged-in buyer who may enter the room and cannot watch yet.
            may_buy = user is not None and not kept_out and not may_watch
            assert (checkout.status_code == 201) is may_buy, (name, checkout.status_code, checkout.content)
            assert 400 <= checkout.status_code < 500 or may_buy, name
            assert Purchase.objects.count() == before + (1 if may_buy else 0), name
