from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marquee.access import selectors as access
from marquee.audit.models import AuditEvent
from marquee.compliance import policy
from marquee.lib.fields import clip
from marquee.performers import services as performer_services
from marquee.shows import selectors, services, thumbnails
from marquee.shows.models import Show

# nginx-rtmp hook names → what they do.
HOOK_EVENTS = {"publish", "update", "publish_done"}


def _hook_allowed(request) -> bool:
    token = request.GET.get("token", "") or request.headers.get("X-Media-Hook-Secret", "")
    if not hmac.compare_digest(token.encode(), settings.MEDIA_HOOK_SECRET.encode()):
        return False
    try:
        address = ipaddress.ip_address(request.client_ip)
    except ValueError:
        return False
    return any(address in network for network in settings.MEDIA_HOOK_ALLOWED_IPS)


def _hook_arg(request, key: str) -> str:
    """The first value of ``key``: nginx-rtmp writes its own fields (name,
    addr, clientid, call, time) first and appends the publisher's URL
    arguments after them, so a later value is the publisher's forgery."""
    values = request.POST.getlist(key)
    return values[0] if values else ""


@csrf_exempt
@require_POST
def media_hook(request, event):
    """nginx-rtmp notifications.  Any non-2xx answer refuses the publish
    (``publish``) or cuts the running stream (``update``)."""
    if event not in HOOK_EVENTS:
        raise Http404("Unknown media hook.")
    if not _hook_allowed(request):
        return HttpResponseForbidden("Forbidden.")
    # Cut to the columns they end up in: a username, a media session, an audited address.
    stream = clip(_hook_arg(request, "name"), get_user_model(), "username")
    session = clip(_hook_arg(request, "clientid"), Show, "media_session")
    addr = clip(_hook_arg(request, "addr"), AuditEvent, "ip")
    if not stream or not session:
        return HttpResponse("name and clientid are required.", status=400)
    if event == "publish":
        decision = services.start_publish(username=stream, key=_hook_arg(request, "key"), session=session, addr=addr)
    elif event == "update":
        if _hook_arg(request, "call") == "update_play":
            # on_update also fires for RTMP players: only loopback tools may
            # play (the ladder's transcoder, thumbnails); cutting one kills the ladder.
            return HttpResponse("ok")
        try:
            seconds_live = int(_hook_arg(request, "time") or "0")
        except ValueError:
            seconds_live = 0
        decision = services.check_publish(username=stream, session=session, seconds_live=seconds_live, addr=addr)
    else:
        services.end_publish(username=stream, session=session, addr=addr)
        return HttpResponse("ok")
    if not decision:
        return HttpResponse(decision.message, status=decision.status)
    return HttpResponse("ok")


@require_GET
def live_thumbnail(request, username):
    """A live frame is part of the show: served only to who may watch it."""
    viewer = access.Viewer.from_request(request)
    performer = access.find_room(viewer, username)
    if performer is None or not access.live_thumbnail_allowed(viewer, performer):
        raise Http404("No preview.")
    path = thumbnails.thumbnail_path(username)
    if not path.exists():
        raise Http404("No preview.")
    # Small (~15 kB): read at once, no streaming response under ASGI.
    response = HttpResponse(path.read_bytes(), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=15"
    return response


def _own_performer_or_404(request):
    performer = getattr(request.user, "performer", None)
    if performer is None:
        raise Http404("Only performers have stream settings.")
    return performer


@login_required
@require_http_methods(["GET", "POST"])
def stream_settings(request):
    """OBS settings; POST regenerates the key and shows it this once."""
    performer = _own_performer_or_404(request)
    new_key = None
    if request.method == "POST":
        new_key = performer_services.regenerate_stream_key(performer=performer, actor=request.user, request=request)
    context = {
        "performer": performer,
        "server_url": settings.MEDIA_RTMP_PUBLIC_URL,
        "stream_key": f"{performer.username}?key={new_key}" if new_key else None,
        "can_stream": policy.can_stream(performer),
        "live": selectors.live_status(performer),
    }
    return render(request, "shows/stream_settings.html", context)
