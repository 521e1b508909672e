"""The site header's personal part: wallet, notifications, followed rooms.

A surface over the domain apps below ``access`` (ledger, performers, shows):
read-only selectors, one query each."""

from __future__ import annotations

from django import template

from marquee.access import selectors as access
from marquee.ledger import selectors as ledger_selectors
from marquee.performers.selectors import followed_performers
from marquee.schedule import selectors as schedule_selectors

register = template.Library()

FOLLOWED_IN_HEADER = 8


@register.inclusion_tag("_header_nav.html", takes_context=True)
def header_nav(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    data = {"request": request, "user": user, "csrf_token": context.get("csrf_token")}
    if user is None or not user.is_authenticated:
        return data
    viewer = access.Viewer.from_request(request)
    follows = list(followed_performers(user, viewer.location).order_by("display_name")[:FOLLOWED_IN_HEADER])
    data.update(
        {
            "balance": ledger_selectors.wallet_balance(user),
            "unread": schedule_selectors.unread_notifications(user).count(),
            "follows": follows,
        }
    )
    return data
