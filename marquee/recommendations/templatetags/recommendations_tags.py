from __future__ import annotations

from django import template

from marquee.lib.geo import location_for_request
from marquee.recommendations import selectors

register = template.Library()


@register.inclusion_tag("recommendations/_home_row.html", takes_context=True)
def recommended_row(context, limit: int = 12):
    request = context["request"]
    performers = selectors.recommended_performers(
        viewer=request.user, location=location_for_request(request), limit=limit
    )
    return {
        "performers": performers,
        "personal": request.user.is_authenticated,
        "request": request,
        "csrf_token": context.get("csrf_token"),  # the cards' "Hide" forms
    }


@register.inclusion_tag("recommendations/_similar.html", takes_context=True)
def similar_performers(context, performer, limit: int = 6):
    request = context["request"]
    performers = selectors.similar_performers(
        performer=performer, viewer=request.user, location=location_for_request(request), limit=limit
    )
    return {"performers": performers, "request": request}
