"""The "hide" button on recommended cards (the API has the same under
``/api/v1/recommendations/hidden/<username>/``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from marquee.lib.geo import location_for_request
from marquee.performers.selectors import get_visible_performer
from marquee.recommendations import services


@login_required
@require_POST
def hide(request, username):
    performer = get_visible_performer(username, viewer=request.user, location=location_for_request(request))
    if performer is None:
        raise Http404("No such room.")
    services.hide_performer(user=request.user, performer=performer, request=request)
    if request.headers.get("HX-Request"):
        return HttpResponse("")  # htmx swaps the card out
    return redirect("home")
