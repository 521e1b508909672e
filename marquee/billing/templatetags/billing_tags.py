from __future__ import annotations

import uuid

from django import template

from marquee.access import selectors as access
from marquee.billing import selectors
from marquee.ledger import selectors as ledger_selectors

register = template.Library()


def tip_panel_context(viewer, performer) -> dict:
    """``viewer`` is an ``access.Viewer``: what can be bought here comes from
    the one entitlement module."""
    user = viewer.user
    return {
        **access.room_offers(viewer, performer),
        "performer": performer,
        "tip_menu": performer.tip_menu.all(),
        "balance": ledger_selectors.wallet_balance(user) if viewer.authenticated else None,
        "tip_key": uuid.uuid4().hex,
        "quick_amounts": [5, 10, 25, 50, 100],
        # The viewer's own setting (``/me/``): quick buttons ask first.
        "confirm_tips": bool(viewer.authenticated and user.confirm_tips),
    }


@register.inclusion_tag("billing/_tip_panel.html", takes_context=True)
def tip_panel(context, performer):
    """The room's tip slot: balance, tip-menu buttons, a custom amount."""
    request = context.get("request")
    data = tip_panel_context(access.Viewer.from_request(request), performer)
    data["request"] = request
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.inclusion_tag("billing/_account_money.html", takes_context=True)
def account_money(context):
    """The account page's money section: wallet, purchases, subscriptions."""
    request = context.get("request")
    user = request.user
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "balance": ledger_selectors.wallet_balance(user),
        "purchases": selectors.purchases_for(user)[:5],
        "subscriptions": selectors.subscriptions_for(user),
    }
