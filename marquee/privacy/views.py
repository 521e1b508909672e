"""Pages of the privacy capability."""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from marquee.accounts.selectors import REAUTHENTICATE_URL, recently_reauthenticated
from marquee.privacy import selectors, services


@login_required
@require_http_methods(["GET", "POST"])
def close_account(request):
    if request.method == "POST":
        if not recently_reauthenticated(request):
            return redirect(f"{REAUTHENTICATE_URL}?next={request.path}")
        closure = services.close_account(user=request.user, request=request)
        logout(request)
        return render(request, "privacy/closed.html", {"closure": closure})
    return render(request, "privacy/close.html", {"summary": selectors.closure_summary(request.user)})
