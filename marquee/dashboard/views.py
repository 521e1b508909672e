"""Dashboard pages of the performers app: the overview and room settings."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marquee.accounts.selectors import has_two_factor
from marquee.compliance import policy
from marquee.dashboard.forms import (
    ModeratorForm,
    RegionBlockForm,
    RoomSettingsForm,
    TipMenuItemForm,
    cents,
)
from marquee.performers import selectors, services
from marquee.performers.dashboard_access import performer_required
from marquee.schedule import selectors as schedule_selectors
from marquee.shows import selectors as show_selectors


@performer_required
def index(request):
    performer = request.performer
    context = {
        "performer": performer,
        "two_factor": has_two_factor(request.user),
        "upcoming": schedule_selectors.public_upcoming(performer)[:5],
        "live": show_selectors.live_status(performer),
        "can_stream": policy.can_stream(performer),
        "dash_section": "home",
    }
    return render(request, "dashboard/index.html", context)


def _room_context(request, performer, settings_form=None):
    return {
        "performer": performer,
        "settings_form": settings_form or RoomSettingsForm.for_performer(performer),
        "tip_form": TipMenuItemForm(),
        "moderator_form": ModeratorForm(),
        "region_form": RegionBlockForm(),
        "tip_menu": performer.tip_menu.all(),
        "moderators": selectors.room_moderators(performer),
        "region_blocks": selectors.region_blocks(performer),
        "two_factor": has_two_factor(request.user),
        "dash_section": "room",
    }


@performer_required
def room_settings(request):
    performer = request.performer
    form = None
    if request.method == "POST":
        form = RoomSettingsForm.for_performer(performer, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_room_settings(
                    performer=performer,
                    default_show_kind=data["default_show_kind"],
                    default_ticket_price_cents=cents(data["ticket_price"]),
                    subscription_price_cents=cents(data["subscription_price"]),
                    private_show_price_cents=cents(data["private_price"]),
                    room_topic=data["room_topic"],
                    tip_goal_tokens=data["tip_goal_tokens"],
                    tip_goal_label=data["tip_goal_label"],
                    timezone_name=data["timezone"],
                    request=request,
                )
            except services.SettingsError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Room settings saved.")
                return redirect("dashboard_room")
        status = 400
    else:
        status = 200
    return render(request, "dashboard/room.html", _room_context(request, performer, form), status=status)


def _run(request, action, success: str):
    try:
        action()
    except services.SettingsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("dashboard_room")


def _add_or_remove(request, *, form_class, add, added: str, remove, removed: str):
    """The room page's list forms (tip menu, moderators, region blocks):
    ``remove=<id>`` takes an entry out; otherwise the form's fields add one.
    ``added`` is formatted with the form's cleaned data."""
    if request.POST.get("remove"):
        return _run(request, lambda: remove(_int(request.POST["remove"])), removed)
    form = form_class(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("dashboard_room")
    data = form.cleaned_data
    return _run(request, lambda: add(data), added.format(**data))


@performer_required
@require_POST
def tip_menu(request):
    performer = request.performer
    return _add_or_remove(
        request,
        form_class=TipMenuItemForm,
        add=lambda data: services.add_tip_menu_item(performer=performer, request=request, **data),
        added="Tip-menu item added.",
        remove=lambda pk: services.remove_tip_menu_item(performer=performer, item_id=pk, request=request),
        removed="Tip-menu item removed.",
    )


@performer_required
@require_POST
def moderators(request):
    performer = request.performer
    return _add_or_remove(
        request,
        form_class=ModeratorForm,
        add=lambda data: services.appoint_moderator(performer=performer, username=data["username"], request=request),
        added="{username} can now moderate your room.",
        remove=lambda pk: services.remove_moderator(performer=performer, user_id=pk, request=request),
        removed="Moderator removed.",
    )


@performer_required
@require_POST
def region_blocks(request):
    performer = request.performer
    return _add_or_remove(
        request,
        form_class=RegionBlockForm,
        add=lambda data: services.add_region_block(performer=performer, region=data["region"], request=request),
        added="Region blocked: people there will not see your room.",
        remove=lambda pk: services.remove_region_block(performer=performer, block_id=pk, request=request),
        removed="Region unblocked.",
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
