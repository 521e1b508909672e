from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from marquee.accounts.selectors import has_two_factor
from marquee.compliance.middleware import AGE_GATE_SESSION_KEY
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
    }
    return render(request, "accounts/account.html", context)
