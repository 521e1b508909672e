from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from marquee.accounts import services
from marquee.accounts.selectors import has_two_factor
from marquee.compliance.middleware import AGE_GATE_SESSION_KEY
from marquee.lib.errors import DomainError
from marquee.lib.geo import location_for_request
from marquee.performers.selectors import followed_performers


def age_gate(request):
    next_url = request.GET.get("next") or request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = "/"
    if request.method == "POST":
        if request.POST.get("confirm") == "yes":
            request.session[AGE_GATE_SESSION_KEY] = True
            return redirect(next_url)
    return render(request, "accounts/age_gate.html", {"next": next_url})


@login_required
def account(request):
    user = request.user
    context = {
        "follows": followed_performers(user, location_for_request(request)),
        "has_two_factor": has_two_factor(user),
        "performer": getattr(user, "performer", None) if hasattr(user, "performer") else None,
        "timezones": sorted(zoneinfo.available_timezones()),
    }
    return render(request, "accounts/account.html", context)


@login_required
@require_POST
def set_tipping(request):
    """The /me/ tipping form (a checkbox: absent means off)."""
    confirm = services.set_tip_confirmation(user=request.user, confirm=request.POST.get("confirm_tips") == "on")
    messages.success(request, "Quick tip buttons now ask first." if confirm else "Quick tip buttons now tip at once.")
    return redirect("account")


@login_required
@require_POST
def set_timezone(request):
    """The /me/ time-zone form; ``static/js/timezone.js`` posts the browser's
    zone here with ``auto=1`` (answered 204, no page)."""
    auto = request.POST.get("auto") == "1"
    try:
        zone = services.set_timezone(user=request.user, name=request.POST.get("timezone", ""))
    except DomainError as error:
        if auto:
            raise
        messages.error(request, error.message)
        return redirect("account")
    if auto:
        return HttpResponse(status=204)
    messages.success(request, f"Times are now shown in {zone}.")
    return redirect("account")
