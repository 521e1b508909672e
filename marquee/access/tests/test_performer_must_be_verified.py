"""Hole 2: sales to, tips to and payouts for a performer need a verified,
not suspended performer (``policy.can_earn``), on every path.  A refused
request is a 4xx with a code, and nothing changed: no purchase, no ledger
transfer, no payout, no audit row, balances as they were."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone
from PIL import Image

from marquee.audit.models import AuditEvent
from marquee.billing import services as billing
from marquee.billing.models import Payout, Purchase, Tip
from marquee.content import services as content
from marquee.content.models import ContentPurchase, MediaItem
from marquee.ledger import selectors as ledger
from marquee.ledger.models import AccountKind, Transfer
from marquee.ledger.services import Movement, platform_account, post_transfer, wallet_account
from tests.factories import PurchaseFactory, ShowFactory, UserFactory, reauthenticate
from tests.support.compliance import approve_age

pytestmark = pytest.mark.django_db

REFUSED_CODES = {"performer_not_verified", "performer_suspended"}


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_WEBHOOK_SECRET = "test-sandbox-secret"
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.CONTENT_ROOT = tmp_path / "content"


@pytest.fixture
def buyer(db):
    user = UserFactory(username="buyer")
    approve_age(user)
    post_transfer(
        kind="grant",
        idempotency_key="grant-buyer",
        user=user,
        movements=[Movement(platform_account(AccountKind.TOKEN_SUPPLY), -500), Movement(wallet_account(user), 500)],
    )
    return user


def _unverify(performer, how):
    if how == "suspended":
        performer.is_suspended = True
    else:
        performer.verification_status = how
    performer.save()


def _snapshot(performer, buyer):
    return {
        "purchases": Purchase.objects.count(),
        "content_purchases": ContentPurchase.objects.count(),
        "tips": Tip.objects.count(),
        "payouts": Payout.objects.count(),
        "transfers": Transfer.objects.count(),
        "audit": AuditEvent.objects.exclude(action__startswith="auth.").count(),
        "wallet": ledger.wallet_balance(buyer),
        "performer": ledger.performer_balances(performer),
    }


def _published_set(performer):
    media_set = content.create_set(performer=performer, title="Garden", free_for_subscribers=False, price_tokens=50)
    png = io.BytesIO()
    Image.new("RGB", (32, 32), "#336699").save(png, "PNG")
    item = content.upload_item(media_set=media_set, upload=SimpleUploadedFile("a.png", png.getvalue()))
    MediaItem.objects.filter(pk=item.pk).update(status="ready")
    return content.update_set(
        media_set=media_set,
        title="Garden",
        description="",
        free_for_subscribers=False,
        price_tokens=50,
        is_published=True,
    )


def _attempts(performer):
    """Every way to pay a performer, as the JSON API offers it: (name, method, path, body)."""
    premium = ShowFactory(performer=performer, kind="premium", price_cents=799, scheduled_start=timezone.now())
    private = ShowFactory(performer=performer, kind="private", scheduled_start=timezone.now())
    media_set = _published_set(performer)
    return [
        ("ticket", "/api/v1/checkout/", {"product": "ticket", "show": premium.pk}),
        ("private", "/api/v1/checkout/", {"product": "private", "show": private.pk}),
        ("subscription", "/api/v1/checkout/", {"product": "subscription", "performer": "performer"}),
        ("tip", "/api/v1/rooms/performer/tips/", {"tokens": 10, "idempotency_key": "t1"}),
        ("content", f"/api/v1/content/sets/{media_set.pk}/purchase/", {}),
    ]


@pytest.mark.parametrize("how", ["pending", "unverified", "rejected", "suspended"])
def test_no_sale_or_tip_to_a_performer_who_may_not_earn(client, performer, buyer, how):
    attempts = _attempts(performer)  # set up while still verified (a set can only be made by a performer)
    _unverify(performer, how)
    before = _snapshot(performer, buyer)
    client.force_login(buyer)
    for name, path, body in attempts:
        response = client.post(path, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (name, response.status_code, response.content)
        code = response.json()["error"]["code"]
        # A suspended room is hidden (404) from buyers; an unverified one says why.
        assert code in REFUSED_CODES | {"not_found"}, (name, code)
        if how != "suspended":
            assert code == "performer_not_verified", (name, code)
    assert _snapshot(performer, buyer) == before


@pytest.mark.parametrize("how", ["pending", "unverified"])
def test_unverified_performer_is_refused_in_the_services_too(performer, buyer, how):
    """Domain services hold the same guard (``policy.can_earn``), for callers
    that are not web surfaces (tasks, commands, future surfaces)."""
    from marquee.lib.geo import UNKNOWN

    show = ShowFactory(performer=performer, kind="premium", price_cents=799, scheduled_start=timezone.now())
    media_set = _published_set(performer)
    _unverify(performer, how)
    before = _snapshot(performer, buyer)
    calls = {
        "checkout": lambda: billing.start_checkout(
            user=buyer, location=UNKNOWN, product="ticket", show=show, success_url_for=lambda p: "http://t/"
        ),
        "tip": lambda: billing.send_tip(
            user=buyer, performer=performer, tokens=5, idempotency_key="x", location=UNKNOWN
        ),
    }
    for name, call in calls.items():
        with pytest.raises(billing.BillingError) as refused:
            call()
        assert refused.value.code == "performer_not_verified", name
    media_set.refresh_from_db()  # drop the performer cached while it was verified
    with pytest.raises(content.ContentError) as refused:
        content.purchase_set(user=buyer, media_set=media_set, location=UNKNOWN)
    assert refused.value.code == "performer_not_verified"
    assert _snapshot(performer, buyer) == before


@override_settings(PAYOUT_MINIMUM_CENTS=1000)
@pytest.mark.parametrize("how", ["pending", "rejected", "suspended"])
def test_no_payout_for_a_performer_who_may_not_earn(client, performer, buyer, how):
    # Earned while verified, released, then verification revoked (or suspended).
    show = ShowFactory(performer=performer, kind="premium", price_cents=5000, status="live")
    purchase = PurchaseFactory(user=buyer, product="ticket", show=show, performer=performer, amount_cents=5000)
    billing.sandbox_complete_checkout(purchase=purchase, pay=True)
    billing.release_due_earnings(now=timezone.now() + datetime.timedelta(days=60))
    assert ledger.performer_balances(performer)[AccountKind.PERFORMER_AVAILABLE] > 1000
    _unverify(performer, how)
    before = _snapshot(performer, buyer)
    client.force_login(performer.user)
    reauthenticate(client)  # so the refusal is the verification rule, not the reauthentication one
    response = client.post("/api/v1/payouts/", {"amount_cents": 1000}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] in REFUSED_CODES
    assert _snapshot(performer, buyer) == before
