"""Pages of private shows: the performer's private-show dashboard (settings,
requests, group shows) and the receipt (periods and total)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import redirect, render

from marquee.access import selectors as access
from marquee.lib.errors import DomainError
from marquee.performers.models import Performer
from marquee.privates import selectors, services
from marquee.privates.forms import GroupShowForm, PrivateSettingsForm

_SETTINGS = list(PrivateSettingsForm.base_fields)


@login_required
def dashboard(request):
    performer = Performer.objects.select_related("user").filter(user=request.user).first()
    if performer is None:
        return HttpResponseForbidden("The dashboard is for performers.")
    room = selectors.room_settings(performer)
    settings_form = PrivateSettingsForm(initial={name: getattr(room, name) for name in _SETTINGS})
    group_form = GroupShowForm(initial={"rate_tokens": room.rate_tokens, "goal_viewers": 3, "window_minutes": 10})
    if request.method == "POST":
        if request.POST.get("form") == "group":
            group_form = GroupShowForm(request.POST)
            if group_form.is_valid():
                try:
                    services.announce_group_show(
                        actor=request.user, performer=performer, request=request, **group_form.cleaned_data
                    )
                    return redirect("dashboard_privates")
                except DomainError as refused:
                    group_form.add_error(None, refused.message)
        else:
            settings_form = PrivateSettingsForm(request.POST)
            if settings_form.is_valid():
                try:
                    services.update_room_settings(
                        actor=request.user, performer=performer, request=request, **settings_form.cleaned_data
                    )
                    return redirect("dashboard_privates")
                except DomainError as refused:
                    settings_form.add_error(None, refused.message)
    context = {
        "dash_section": "privates",
        "performer": performer,
        "settings_form": settings_form,
        "group_form": group_form,
        "group": selectors.open_group_show(performer),
        "recent": selectors.recent_sessions(performer),
    }
    return render(request, "privates/dashboard.html", context, status=400 if request.method == "POST" else 200)


@login_required
def receipt(request, pk):
    session = selectors.session(pk)
    if session is None or request.user.pk not in (session.payer_id, session.performer.user_id):
        raise Http404("No such show.")
    lines = selectors.period_charges(session)
    context = {
        "session": session,
        "lines": lines,
        "total_tokens": sum(line["tokens"] for line in lines),
        "held_tokens": selectors.held_now(session),
    }
    return render(request, "privates/receipt.html", context)


@login_required
def recording_file(request, token: str):
    """Recordings leave only through here: a valid, unexpired link minted for
    this user, who must still be entitled (``access.watch_recording``)."""
    recording = selectors.recording_from_token(token, request.user)
    if not access.watch_recording(request.user, recording):
        raise Http404("No such recording.")
    response = FileResponse(recording.file.open("rb"), content_type="video/mp4")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
