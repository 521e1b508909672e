from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection, connections

from marquee.audit.models import AuditEvent
from marquee.billing import services
from marquee.billing.models import Tip
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from tests.factories import PerformerFactory, UserFactory
from tests.support.billing import fund, tip

pytestmark = pytest.mark.django_db


def api_tip(client, username, tokens, key="k1", **extra):
    return client.post(
        f"/api/v1/rooms/{username}/tips/",
        {"tokens": tokens, **extra},
        content_type="application/json",
        headers={"Idempotency-Key": key} if key else {},
    )


def test_tip_moves_tokens_splits_value_and_announces(
    client, viewer, performer, ledger_clean, django_capture_on_commit_callbacks, room_events
):
    fund(viewer, 100)
    client.force_login(viewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_tip(client, "performer", 30, message="hello")
    assert response.status_code == 201, response.content
    assert response.json()["balance_tokens"] == 70
    assert ledger.wallet_balance(viewer) == 70
    balances = ledger.performer_balances(performer)
    assert balances[AccountKind.PERFORMER_PENDING] == 30 * 10 * 60 // 100
    event = next(event for _, event in room_events if event["type"] == "tip")
    assert room_events[0][0] == "performer"
    assert event["from"] == "viewer" and event["tokens"] == 30 and event["message"] == "hello"
    assert AuditEvent.objects.filter(action="billing.tip", actor_id=viewer.pk).count() == 1


def test_same_idempotency_key_tips_once(client, viewer, performer, ledger_clean):
    fund(viewer, 100)
    client.force_login(viewer)
    first = api_tip(client, "performer", 10, key="same")
    second = api_tip(client, "performer", 10, key="same")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert ledger.wallet_balance(viewer) == 90
    assert Tip.objects.count() == 1


def test_insufficient_balance_is_a_clear_error_and_moves_nothing(client, viewer, performer, ledger_clean):
    fund(viewer, 100)
    client.force_login(viewer)
    response = api_tip(client, "performer", 101)
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_tokens"
    assert ledger.wallet_balance(viewer) == 100
    assert not Tip.objects.exists() and not Transfer.objects.filter(kind="tip").exists()


@pytest.mark.parametrize(
    ("payload", "key", "status", "code"),
    [
        ({"tokens": 0}, "a", 400, "invalid"),
        ({"tokens": "lots"}, "a", 400, "invalid"),
        ({"tokens": 5}, "", 400, "idempotency_key_required"),
    ],
)
def test_bad_tip_input_is_4xx(client, viewer, performer, payload, key, status, code):
    fund(viewer, 100)
    client.force_login(viewer)
    response = client.post(
        "/api/v1/rooms/performer/tips/",
        payload,
        content_type="application/json",
        headers={"Idempotency-Key": key} if key else {},
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert ledger.wallet_balance(viewer) == 100


def test_anonymous_self_minor_and_hidden_room_are_refused(client, viewer, performer, ledger_clean):
    assert api_tip(client, "performer", 5).status_code == 401
    client.force_login(performer.user)
    response = api_tip(client, "performer", 5)
    assert response.status_code == 409 and response.json()["error"]["code"] == "own_room"
    minor = UserFactory(username="minor", date_of_birth="2015-01-01")
    fund_ok = UserFactory(username="funded")
    fund(fund_ok, 50)
    client.force_login(minor)
    response = api_tip(client, "performer", 5)
    assert response.status_code == 403 and response.json()["error"]["code"] == "age_restricted"
    performer.is_suspended = True
    performer.save()
    client.force_login(fund_ok)
    assert api_tip(client, "performer", 5).status_code == 404
    assert ledger.wallet_balance(fund_ok) == 50
    assert not Tip.objects.exists()


def test_room_tip_form_swaps_panel_with_new_balance(client, viewer, performer, ledger_clean):
    fund(viewer, 100)
    client.force_login(viewer)
    page = client.get("/rooms/performer/")
    assert b'id="tip-panel"' in page.content and b"Balance: <strong data-wallet-balance>100</strong>" in page.content
    response = client.post(
        "/rooms/performer/tip/", {"tokens": 25, "idempotency_key": "form1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"data-wallet-balance>75<" in response.content and b"Thank you" in response.content
    again = client.post(
        "/rooms/performer/tip/", {"tokens": 25, "idempotency_key": "form1"}, headers={"HX-Request": "true"}
    )
    assert b"data-wallet-balance>75<" in again.content
    too_much = client.post(
        "/rooms/performer/tip/", {"tokens": 500, "idempotency_key": "form2"}, headers={"HX-Request": "true"}
    )
    assert b"Not enough tokens" in too_much.content
    assert ledger.wallet_balance(viewer) == 75


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent PostgreSQL connections")
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_tipping_from_ten_wallets():
    """Funds cover only some tips: exactly those succeed, no wallet goes negative."""
    performer = PerformerFactory()
    users = [UserFactory() for _ in range(10)]
    funds = {user.pk: 30 + 7 * i for i, user in enumerate(users)}  # 30..93 tokens
    for user in users:
        fund(user, funds[user.pk], amount_cents=100 + funds[user.pk])
    tip_tokens = 20
    allowed = sum(min(tokens // tip_tokens, 5) for tokens in funds.values())  # 5 attempts per wallet
    barrier = threading.Barrier(50)

    def worker(n):
        user = users[n % 10]
        barrier.wait()
        try:
            tip(user, performer, tip_tokens, key=f"t{n}")
            return True
        except services.BillingError as exc:
            assert exc.code == "insufficient_tokens"
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(worker, range(50)))
    assert sum(results) == allowed < 50
    assert Tip.objects.count() == allowed
    for user in users:
        expected = funds[user.pk] - tip_tokens * min(funds[user.pk] // tip_tokens, 5)
        assert ledger.wallet_balance(user) == expected >= 0
    call_command("ledger_check")


def test_room_offers_ticket_and_fan_club_but_not_to_the_performer(client, viewer, performer):
    from tests.factories import ShowFactory

    ShowFactory(performer=performer, title="Gala", kind="premium", price_cents=799)
    client.force_login(viewer)
    page = client.get("/rooms/performer/").content.decode()
    assert "Ticket: Gala — $7.99" in page and "Join the fan club — $9.99/month" in page
    client.force_login(performer.user)
    own = client.get("/rooms/performer/").content.decode()
    assert "Ticket: Gala" not in own and "Join the fan club" not in own


def test_idempotency_keys_are_per_user(client, viewer, performer, ledger_clean):
    """Two users who happen to send the same key each tip once, with their own tokens."""
    other = UserFactory(username="other")
    fund(viewer, 100)
    fund(other, 100)
    client.force_login(viewer)
    first = api_tip(client, "performer", 10, key="same-key")
    client.force_login(other)
    second = api_tip(client, "performer", 25, key="same-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["user"] == "other" and second.json()["tokens"] == 25
    assert ledger.wallet_balance(viewer) == 90 and ledger.wallet_balance(other) == 75
    assert Tip.objects.count() == 2
    # Each user's repeat still returns their own first tip.
    assert api_tip(client, "performer", 25, key="same-key").json()["id"] == second.json()["id"]
    assert ledger.wallet_balance(other) == 75


def test_tip_events_use_the_rooms_one_goal_rule(
    viewer, performer, ledger_clean, django_capture_on_commit_callbacks, room_events
):
    """The tip event's goal is the room page's: this live show's tips only, and
    no goal while offline (it restarts with every show)."""
    from django.utils import timezone

    from marquee.billing.selectors import tip_goal_progress
    from marquee.shows.models import Show

    performer.tip_goal_tokens, performer.tip_goal_label = 50, "New lamp"
    performer.save(update_fields=["tip_goal_tokens", "tip_goal_label"])
    fund(viewer, 200)

    def tip_events(tokens):
        room_events.clear()
        with django_capture_on_commit_callbacks(execute=True):
            tip(viewer, performer, tokens)
        return [event for _, event in room_events]

    offline = tip_events(40)
    assert [e["type"] for e in offline] == ["tip"] and offline[0]["goal"] is None
    Show.objects.create(performer=performer, title="Live", status=Show.Status.LIVE, started_at=timezone.now())
    first = tip_events(30)
    assert first[0]["goal"]["tokens"] == 30 and [e["type"] for e in first] == ["tip"]
    second = tip_events(25)
    assert [e["type"] for e in second] == ["tip", "goal_reached"]
    assert second[0]["goal"] == tip_goal_progress(performer) and second[0]["goal"]["tokens"] == 55
    assert [e["type"] for e in tip_events(5)] == ["tip"]  # reached once
