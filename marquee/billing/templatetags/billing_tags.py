from __future__ import annotations

import uuid

from django import template

from marquee.billing import selectors
from marquee.ledger import selectors as ledger_selectors

register = template.Library()


def _offers(user, performer) -> dict:
    """Tickets for the performer's premium shows and the fan club, with what
    the viewer already owns."""
    authenticated = user is not None and user.is_authenticated
    own_room = authenticated and user.pk == performer.user_id
    shows = list(
        performer.shows.filter(kind="premium", status__in=["scheduled", "live"]).order_by("scheduled_start")[:3]
    )
    return {
        "tickets": [{"show": show, "owned": authenticated and selectors.has_show_ticket(user, show)} for show in shows],
        "club_member": authenticated and selectors.has_active_subscription(user, performer),
        "sells": not own_room and performer.is_verified,
    }


def tip_panel_context(user, performer) -> dict:
    authenticated = user is not None and user.is_authenticated
    return {
        **_offers(user, performer),
        "performer": performer,
        "tip_menu": performer.tip_menu.all(),
        "balance": ledger_selectors.wallet_balance(user) if authenticated else None,
        "can_tip": authenticated and user.pk != performer.user_id,
        "tip_key": uuid.uuid4().hex,
        "quick_amounts": [5, 10, 25, 50, 100],
    }


@register.inclusion_tag("billing/_tip_panel.html", takes_context=True)
def tip_panel(context, performer):
    """The room's tip slot: balance, tip-menu buttons, a custom amount."""
    request = context.get("request")
    data = tip_panel_context(getattr(request, "user", None), performer)
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


@register.filter
def dollars(cents) -> str:
    try:
        return f"${int(cents) / 100:,.2f}"
    except (TypeError, ValueError):
        return ""
