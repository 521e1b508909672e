"""Pages of the privacy capability."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from marquee.accounts.selectors import REAUTHENTICATE_URL, recently_reauthenticated
from marquee.lib.errors import DomainError
from marquee.performers.dashboard_access import performer_required
from marquee.privacy import reopen, selectors, services, travel


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


@login_required
@require_http_methods(["GET", "POST"])
def my_data(request):
    if request.method == "POST":
        services.request_export(user=request.user, request=request)
        return redirect("privacy_my_data")
    export = selectors.latest_export(request.user)
    link = (
        reverse("privacy_export_download", args=[services.export_token(export)])
        if export is not None and export.status == "ready"
        else ""
    )
    return render(request, "privacy/my_data.html", {"export": export, "link": link})


@login_required
def export_download(request, token):
    data = services.download_export(user=request.user, token=token, request=request)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="marquee-data.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def reopen_account(request):
    """Step 1: the old address; step 2: the code mailed to it."""
    if request.method == "GET":
        return render(request, "privacy/reopen.html", {"step": "email"})
    email = request.POST.get("email", "").strip()[:254]
    code = request.POST.get("code", "")
    if not code:
        if email:
            reopen.start(email=email)
        return render(request, "privacy/reopen.html", {"step": "code", "email": email})
    try:
        user = reopen.confirm(email=email, code=code[:12])
    except DomainError as refused:
        context = {"step": "code", "email": email, "error": refused.message}
        return render(request, "privacy/reopen.html", context, status=refused.status)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return render(request, "privacy/reopened.html")


@performer_required
@require_http_methods(["GET", "POST"])
def travel_mode(request):
    """One switch: shows where the performer is now before they confirm; the
    hidden ``confirm`` fields carry exactly the countries that were shown."""
    error, status = "", 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "off":
                travel.disable(performer=request.performer, request=request)
            else:
                travel.enable(
                    performer=request.performer, request=request, confirmed=request.POST.getlist("confirm")[:50]
                )
            return redirect("privacy_travel_mode")
        except DomainError as refused:
            error, status = refused.message, refused.status
    context = {"travel": travel.state(performer=request.performer, request=request), "error": error}
    context["dash_section"] = "travel"
    return render(request, "privacy/travel_mode.html", context, status=status)
