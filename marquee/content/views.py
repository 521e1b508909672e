"""Content pages: the performer's sets and uploads, a viewer's view of a set,
and the signed file endpoint."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from marquee.access import selectors as access
from marquee.content import selectors, services
from marquee.content.forms import MediaSetEditForm, MediaSetForm
from marquee.content.models import MediaItem, MediaSet
from marquee.lib.geo import location_for_request
from marquee.lib.http import json_error
from marquee.performers.dashboard_access import performer_required
from marquee.performers.selectors import get_visible_performer


@performer_required
def dashboard_sets(request):
    performer = request.performer
    form = MediaSetForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                media_set = services.create_set(performer=performer, request=request, **form.cleaned_data)
            except services.ContentError as exc:
                messages.error(request, exc.message)
            else:
                return redirect("dashboard_content_set", set_id=media_set.pk)
    sets = selectors.own_sets(performer).prefetch_related("items")
    return render(request, "content/dashboard_sets.html", {"form": form, "sets": sets, "dash_section": "content"})


def _items_with_urls(media_set, user):
    items = list(media_set.items.all())
    for item in items:
        item.urls = selectors.item_urls(item, user)
    return items


@performer_required
def dashboard_set(request, set_id: int):
    media_set = get_object_or_404(MediaSet, pk=set_id, performer=request.performer)
    form = MediaSetEditForm(
        request.POST or None,
        initial={
            "title": media_set.title,
            "description": media_set.description,
            "free_for_subscribers": media_set.free_for_subscribers,
            "price_tokens": media_set.price_tokens,
            "is_published": media_set.is_published,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_set(media_set=media_set, request=request, **form.cleaned_data)
        except services.ContentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Set saved.")
            return redirect("dashboard_content_set", set_id=media_set.pk)
    context = {
        "media_set": media_set,
        "form": form,
        "items": _items_with_urls(media_set, request.user),
        "dash_section": "content",
    }
    if request.headers.get("HX-Request") and request.GET.get("partial") == "items":
        return render(request, "content/_items.html", context)
    return render(request, "content/dashboard_set.html", context)


@performer_required
@require_POST
def dashboard_upload(request, set_id: int):
    """XHR upload target; answers JSON (the page shows a progress bar)."""
    media_set = get_object_or_404(MediaSet, pk=set_id, performer=request.performer)
    upload = request.FILES.get("file")
    if upload is None:
        return json_error("no_file", "Choose a file to upload.", 400)
    try:
        item = services.upload_item(media_set=media_set, upload=upload, request=request)
    except services.ContentError as exc:
        return json_error(exc.code, exc.message, exc.status)
    item.refresh_from_db()
    return JsonResponse(
        {"id": item.pk, "kind": item.kind, "status": item.status, "urls": selectors.item_urls(item, request.user)},
        status=201,
    )


@performer_required
@require_POST
def dashboard_delete_item(request, item_id: int):
    item = get_object_or_404(MediaItem, pk=item_id, media_set__performer=request.performer)
    set_id = item.media_set_id
    services.delete_item(item=item, request=request)
    messages.success(request, "File deleted.")
    return redirect("dashboard_content_set", set_id=set_id)


def room_sets(request, username: str):
    performer = get_visible_performer(username, viewer=request.user, location=location_for_request(request))
    if performer is None:
        raise Http404("No such room.")
    shelf = access.content_shelf(access.Viewer.from_request(request), performer)
    return render(request, "content/room_sets.html", {"performer": performer, "shelf": shelf})


def view_set(request, set_id: int):
    media_set = get_object_or_404(MediaSet.objects.select_related("performer__user"), pk=set_id)
    decision = selectors.access_media_set(request.user, media_set, location_for_request(request))
    if not decision and decision.status == 404:
        raise Http404("No such set.")
    context = {
        "media_set": media_set,
        "performer": media_set.performer,
        "allowed": bool(decision),
        "message": "" if decision else decision.message,
        "items": _items_with_urls(media_set, request.user) if decision else [],
    }
    return render(request, "content/view_set.html", context, status=200 if decision else 402)


@login_required
def serve_file(request, token: str):
    """Files leave only through here: a valid, unexpired token for this user,
    who must still be allowed to see the set."""
    data = selectors.read_file_token(token, request.user)
    if data is None:
        raise Http404("This link has expired.")
    item = MediaItem.objects.select_related("media_set__performer__user").filter(pk=data["i"]).first()
    if item is None:
        raise Http404("No such file.")
    if not selectors.access_media_set(request.user, item.media_set, location_for_request(request)):
        raise Http404("No such file.")
    field = getattr(item, data["v"])
    if not field:
        raise Http404("Not ready yet.")
    content_type = item.mime if data["v"] == "file" else "image/jpeg"
    response = FileResponse(field.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def buy_set(request, set_id: int):
    media_set = get_object_or_404(MediaSet.objects.select_related("performer__user"), pk=set_id)
    viewer = access.Viewer.from_request(request)
    access.require(access.buy(viewer, "content", media_set=media_set))
    try:
        services.purchase_set(user=request.user, media_set=media_set, location=viewer.location, request=request)
    except services.ContentError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{media_set.title}” is yours.")
    return redirect("content_set", set_id=media_set.pk)
