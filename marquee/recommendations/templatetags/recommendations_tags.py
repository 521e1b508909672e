from __future__ import annotations

from django import template

from marquee.lib.geo import location_for_request
from marquee.performers.selectors import attach_viewer_counts
from marquee.recommendations import selectors

register = template.Library()


@register.inclusion_tag("recommendations/_home_row.html", takes_context=True)
def recommended_row(context, limit: int = 12):
    request = context["request"]
    personal = request.user.is_authenticated
    # "Popular right now" lists rooms the grid below does not show on this
    # page (it used to repeat it: both put live rooms first); when the grid
    # already shows every room, the row is left out.  A personal row is
    # ranked for the viewer and may name rooms the grid has too.
    grid = [] if personal else (context.get("performers") or [])
    performers = selectors.recommended_performers(
        viewer=request.user,
        location=location_for_request(request),
        limit=limit,
        exclude={performer.pk for performer in grid},
    )
    return {
        "performers": attach_viewer_counts(performers),
        "personal": personal,
        "request": request,
        "csrf_token": context.get("csrf_token"),  # the cards' "Hide" forms
    }


@register.inclusion_tag("recommendations/_similar.html", takes_context=True)
def similar_performers(context, performer, limit: int = 6):
    request = context["request"]
    performers = selectors.similar_performers(
        performer=performer, viewer=request.user, location=location_for_request(request), limit=limit
    )
    return {"performers": attach_viewer_counts(performers), "request": request}
