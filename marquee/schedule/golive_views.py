"""Pages of go-live notifications: the per-follow opt-ins and this device's
Web Push switch; the service worker script at the site root (its scope)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from marquee.performers.models import Follow
from marquee.schedule import golive

_SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "js" / "push-sw.js"


@login_required
@require_http_methods(["GET", "POST"])
def live_alerts(request):
    follows = list(Follow.objects.filter(user=request.user).select_related("performer__user").order_by("pk"))
    if request.method == "POST":
        for follow in follows:
            prefix = f"f{follow.pk}-"
            golive.set_follow_notifications(
                user=request.user,
                performer=follow.performer,
                app=f"{prefix}app" in request.POST,
                email=f"{prefix}email" in request.POST,
                push=f"{prefix}push" in request.POST,
            )
        return redirect("live_alerts")
    context = {"follows": follows, "push_available": bool(golive.vapid_public_key())}
    return render(request, "shows/live_alerts.html", context)


@cache_control(no_cache=True)
def service_worker(request):
    # Served from the root so its scope covers the whole site.
    return HttpResponse(_SERVICE_WORKER.read_bytes(), content_type="text/javascript")
