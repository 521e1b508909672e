"""Demo money: each demo viewer buys a token pack through the sandbox (signed
events through the real webhook path, real ledger transfers), then some tips
and a ticket so performers have earnings.  Idempotent."""

from __future__ import annotations

from marquee.accounts.models import User
from marquee.billing import services
from marquee.billing.gateways import get_gateway
from marquee.billing.models import Product, Purchase
from marquee.lib.geo import UNKNOWN
from marquee.performers.models import Performer
from marquee.shows.models import Show

TIPS = [
    ("viewer1", "performer1", 25, "Song request"),
    ("viewer1", "performer1", 5, "Say hi"),
    ("viewer2", "performer1", 50, "Shout-out"),
    ("viewer2", "performer3", 10, "Love the sketches"),
    ("viewer1", "performer2", 25, ""),
]


def _buy(user, **fields) -> Purchase:
    purchase = Purchase.objects.create(user=user, provider="sandbox", **fields)
    services.sandbox_complete_checkout(purchase=purchase, pay=True)
    purchase.refresh_from_db()
    return purchase


def seed(out) -> None:
    if not get_gateway("sandbox", require_enabled=False).is_enabled():
        out.write("billing: sandbox provider off (SANDBOX_ENABLED/SANDBOX_WEBHOOK_SECRET): no demo money")
        return
    viewers = {u.username: u for u in User.objects.filter(username__in=["viewer1", "viewer2", "viewer3"])}
    for user in viewers.values():
        if not Purchase.objects.filter(user=user, product=Product.TOKENS, status=Purchase.Status.PAID).exists():
            _buy(user, product=Product.TOKENS, pack="large", tokens=1200, amount_cents=9999, description="1,200 tokens")
    performers = {p.user.username: p for p in Performer.objects.select_related("user")}
    for n, (viewer, performer, tokens, message) in enumerate(TIPS):
        if viewer in viewers and performer in performers:
            services.send_tip(
                user=viewers[viewer],
                performer=performers[performer],
                tokens=tokens,
                message=message,
                idempotency_key=f"demo-tip-{n}",
                location=UNKNOWN,
            )
    premium = Show.objects.filter(kind="premium", status="scheduled").select_related("performer").first()
    buyer = viewers.get("viewer2")
    if premium and buyer and not Purchase.objects.filter(user=buyer, show=premium).exists():
        _buy(
            buyer,
            product=Product.TICKET,
            show=premium,
            performer=premium.performer,
            amount_cents=premium.price_cents,
            description=f"Ticket: {premium.title} ({premium.performer.display_name})",
        )
    out.write("billing: demo wallets funded through the sandbox, tips and a ticket booked")
