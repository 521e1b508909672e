"""The published OpenAPI schema is the contract: every operation, called as a
viewer, a performer and staff with generated (bounded) inputs, answers no
5xx, only documented status codes and content types, and bodies that match
the documented response schema."""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import timedelta

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import ShowFactory, UserFactory

from .conftest import approve_age

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 10

pytestmark = pytest.mark.slow


@contextmanager
def _keep_test_connection():
    """Like Django's test client: the WSGI handler must not close the test's
    connection (it is inside the test transaction) at request end.  Entered
    only around the run: the test client reconnects the signal after each of
    its own requests (the world fixture makes some)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_throttles(monkeypatch):
    from marquee.compliance.throttles import AnonIPThrottle, IPThrottle, UserThrottle

    for throttle in (AnonIPThrottle, UserThrottle, IPThrottle):
        monkeypatch.setattr(throttle, "rate", "100000/min", raising=False)


def _token_for(client, user) -> str:
    """A real allauth-headless access JWT (the app API's credential; a session
    cookie would need CSRF on every write), valid for the whole run."""
    from allauth.headless.tokens.strategies.jwt import internal

    client.force_login(user)
    sid = internal.session_key_to_sid(client.session.session_key)
    return internal.create_token("access", sub=str(user.pk), sid=sid, expires_in=3600)[0]


def _png() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "#336699").save(out, "PNG")
    return SimpleUploadedFile("photo.png", out.getvalue(), content_type="image/png")


def _ok(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    return response.json() if response.content else None


@pytest.fixture
def world(db, performer, settings, tmp_path, django_capture_on_commit_callbacks):
    """Something real behind every endpoint, so response bodies (not just
    errors) are checked: money, content, chat, schedule, moderation.  Built
    through the services and the API the way users build it."""
    from django.test import Client

    from marquee.chat.models import ChatMessage, ModerationAction
    from marquee.content import services as content_services
    from marquee.content.models import MediaItem
    from marquee.schedule.models import Notification

    settings.CONTENT_ROOT = tmp_path / "content"
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_WEBHOOK_SECRET = "schema-test-secret"
    approve_age(performer.user)
    viewer = UserFactory(username="fuzzviewer")
    approve_age(viewer)
    now = timezone.now()

    room = Client()
    room.force_login(performer.user)
    premium = _ok(
        room.post(
            "/api/v1/dashboard/schedule/shows/",
            {
                "title": "Premium night",
                "kind": "premium",
                "price_cents": 500,
                "starts_at": (now + timedelta(days=2)).isoformat(),
            },
            content_type="application/json",
        ),
        201,
    )
    rule = _ok(
        room.post(
            "/api/v1/dashboard/schedule/rules/",
            {
                "title": "Weekly chat",
                "kind": "public",
                "weekdays": ["MO", "TH"],
                "start_time": "20:15",
                "starts_on": (now + timedelta(days=3)).date().isoformat(),
            },
            content_type="application/json",
        ),
        201,
    )
    ShowFactory(
        performer=performer, status="ended", started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=2)
    )
    tip_item = _ok(
        room.post("/api/v1/dashboard/room/tip-menu/", {"label": "Wave", "tokens": 5}, content_type="application/json"),
        201,
    )
    block = _ok(room.post("/api/v1/dashboard/room/regions/", {"region": "FR"}, content_type="application/json"), 201)
    _ok(
        room.post("/api/v1/dashboard/room/moderators/", {"username": "fuzzviewer"}, content_type="application/json"),
        201,
    )
    media_set = content_services.create_set(
        performer=performer, title="Park day", free_for_subscribers=False, price_tokens=5
    )
    item = content_services.upload_item(media_set=media_set, upload=_png())
    MediaItem.objects.filter(pk=item.pk).update(status=MediaItem.Status.READY)  # as the worker would
    _ok(
        room.patch(
            f"/api/v1/dashboard/content/sets/{media_set.pk}/", {"is_published": True}, content_type="application/json"
        ),
        200,
    )

    fan = Client()
    fan.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        for body in (
            {"product": "tokens", "pack": "medium"},
            {"product": "subscription", "performer": "performer"},
            {"product": "ticket", "show": premium["id"]},
        ):
            url = _ok(fan.post("/api/v1/checkout/", body, content_type="application/json"), 201)["url"]
            fan.post(url.replace("http://testserver", ""), {"action": "pay"})
        pending = _ok(
            fan.post("/api/v1/checkout/", {"product": "tokens", "pack": "small"}, content_type="application/json"), 201
        )
        _ok(
            fan.post(
                "/api/v1/rooms/performer/tips/",
                {"tokens": 7, "message": "hi"},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="tip-1",
            ),
            201,
        )
        _ok(fan.post(f"/api/v1/content/sets/{media_set.pk}/purchase/"), 201)
    _ok(fan.put("/api/v1/performers/performer/follow/"), 201)
    # Live now, premium: the room answers a paywall to whoever has no ticket.
    ShowFactory(performer=performer, status="live", kind="premium", price_cents=300, started_at=now)
    from marquee.billing.models import Subscription

    subscription = Subscription.objects.get(user=viewer)
    for seq, (state, flags) in enumerate([("visible", []), ("visible", []), ("held", ["link"])], start=1):
        ChatMessage.objects.create(
            performer=performer,
            seq=seq,
            author=viewer,
            author_name="fuzzviewer",
            text=f"hello {seq}",
            state=state,
            flags=flags,
            created_at=now,
        )
    ModerationAction.objects.create(
        performer=performer, actor=performer.user, action="timeout", target_user=viewer, details={"seconds": 60}
    )
    ModerationAction.objects.create(performer=performer, actor=None, action="hold", details={})
    Notification.objects.create(
        user=viewer, kind=Notification.Kind.values[0], text="Premium night soon", url="/rooms/performer/"
    )
    # Known ids, so each operation is also called on an object that exists.
    return {
        "username": "performer",
        "set_id": media_set.pk,
        "item_id": item.pk,
        "rule_id": rule["id"],
        "show_id": premium["id"],
        "user_id": viewer.pk,
        "block_id": block["id"],
        "reference": pending["purchase"]["reference"],
        "id": subscription.pk,
        "tip_item_id": tip_item["id"],
    }


@pytest.fixture
def as_viewer(world, client):
    from marquee.accounts.models import User

    return "fuzzviewer", _token_for(client, User.objects.get(username="fuzzviewer")), world


@pytest.fixture
def as_performer(world, client, performer):
    return "performer", _token_for(client, performer.user), world


@pytest.fixture
def as_staff(world, client, staff):
    assert staff.totp_secret  # the root ``staff`` persona has TOTP (the admin refuses staff without 2FA)
    approve_age(staff)
    return "staff", _token_for(client, staff), world


def _describe(exc) -> str:
    found = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(f"{type(e).__name__}: {str(e)[:160]}" for e in found).replace("\n", " ")


def _as_role(case, token):
    """Send the role's credential instead of any generated one."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "cookie")}
    case.headers = {**headers, "Authorization": f"Bearer {token}"}
    case.cookies = {}
    return case


def _known(operation_path: str, name: str, known: dict):
    if name == "item_id" and "/tip-menu/" in operation_path:
        return known["tip_item_id"]
    return known.get(name)


def _run(role, token, known):
    with _keep_test_connection():
        return _run_all(role, token, known)


def _run_all(role, token, known):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40

    # The token really authenticates this role (or the run would be hollow).
    me = next(op for op in operations if op.path.rstrip("/").endswith("/me") and op.method.upper() == "GET")
    response = _as_role(me.Case(), token).call(environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200 and response.json()["username"] == role

    failures: list[str] = []
    statuses: dict[str, set[int]] = {}

    def call_and_check(case):
        response = _as_role(case, token).call(environ_base={"REMOTE_ADDR": "127.0.0.1"})
        statuses.setdefault(f"{case.method} {case.operation.path}", set()).add(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # collect all, report at once
            failures.append(f"{case.method} {case.operation.path} -> {response.status_code}: {_describe(exc)}")

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case):
            call_and_check(case)
            if case.path_parameters:
                # The same generated query/body against objects that exist.
                case.path_parameters = {
                    name: _known(operation.path, name, known) or value for name, value in case.path_parameters.items()
                }
                call_and_check(case)

        check()
    # One line per distinct failure keeps the report readable.
    distinct = sorted(set(failures))
    assert not distinct, f"{len(distinct)} failures:\n" + "\n".join(distinct)
    # Not hollow: most operations answered a success at least once for this role.
    succeeded = [op for op, codes in statuses.items() if any(200 <= c < 300 for c in codes)]
    return succeeded


def test_schema_holds_for_a_viewer(as_viewer):
    succeeded = _run(*as_viewer)
    assert {"GET /api/v1/purchases/", "GET /api/v1/rooms/{username}/moderation/log/", "GET /api/v1/wallet/"} <= set(
        succeeded
    )


def test_schema_holds_for_a_performer(as_performer):
    succeeded = _run(*as_performer)
    assert {
        "GET /api/v1/dashboard/content/sets/{set_id}/",
        "GET /api/v1/dashboard/schedule/",
        "GET /api/v1/earnings/",
    } <= set(succeeded)


def test_schema_holds_for_staff(as_staff):
    succeeded = _run(*as_staff)
    assert {"GET /api/v1/performers/", "GET /api/v1/rooms/{username}/"} <= set(succeeded)


def test_room_state_paywall_is_documented(as_staff, client):
    """The live premium show of the world answers a paywall, in the documented shape."""
    _, token, _ = as_staff
    state = client.get("/api/v1/rooms/performer/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert state["is_live"] and state["playback_url"] is None
    assert state["paywall"]["product"] == "ticket" and state["paywall"]["price_cents"] == 300
