"""Dashboard pages of the performers app: the overview and room settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marquee.accounts.selectors import has_two_factor
from marquee.compliance import policy
from marquee.dashboard.forms import (
    ModeratorForm,
    ProfileForm,
    RegionBlockForm,
    RoomSettingsForm,
    TipMenuItemForm,
    cents,
)
from marquee.performers import profile, selectors, services
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


# Where each refusal of the profile service is shown.
_PROFILE_ERROR_FIELDS = {
    "bad_display_name": "display_name",
    "bad_bio": "bio",
    "bad_tag": "tags",
    "too_many_tags": "tags",
    "bad_language": "languages",
    "too_many_languages": "languages",
}


@performer_required
def profile_settings(request):
    """Avatar, display name, bio, tags and languages (profile, room, grid)."""
    performer = request.performer
    form = ProfileForm(request.POST or None, request.FILES or None, performer=performer)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                profile.update_profile(
                    performer=performer,
                    display_name=data["display_name"],
                    bio=data["bio"],
                    tags=data["tags"],
                    languages=data["languages"],
                    avatar=data["avatar"],
                    remove_avatar=data["remove_avatar"],
                    request=request,
                )
            except services.SettingsError as exc:
                # Anything else the service refuses is about the picture.
                form.add_error(_PROFILE_ERROR_FIELDS.get(exc.code, "avatar"), exc.message)
            else:
                messages.success(request, "Profile saved.")
                return redirect("dashboard_profile")
        status = 422
    context = {"performer": performer, "form": form, "dash_section": "profile"}
    return render(request, "dashboard/profile.html", context, status=status)


def _room_context(request, performer, settings_form=None):
    return {
        "performer": performer,
        "settings_form": settings_form or RoomSettingsForm.for_performer(performer),
        "moderator_form": ModeratorForm(),
        "region_form": RegionBlockForm(),
        **_tip_menu_context(performer),
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


def _tip_menu_context(performer, *, add_form=None, failed_id=None, failed_form=None, moved=None) -> dict:
    """The tip-menu panel: one edit form per item (the one that failed keeps
    what was typed and its errors), the add form, and, after a move, which
    button gets the keyboard focus back (``moved`` is (item id, "up"/"down"))."""
    items = list(performer.tip_menu.order_by("position", "tokens", "pk"))
    rows = []
    for index, item in enumerate(items):
        if item.pk == failed_id:
            form = failed_form
        else:
            form = TipMenuItemForm(initial={"label": item.label, "tokens": item.tokens}, auto_id=f"tip{item.pk}-%s")
        focus = ""
        if moved and moved[0] == item.pk:
            # The same button again, unless the item reached that end of the list.
            at_end = index == 0 if moved[1] == "up" else index == len(items) - 1
            focus = {"up": "down", "down": "up"}[moved[1]] if at_end else moved[1]
        rows.append({"item": item, "form": form, "first": index == 0, "last": index == len(items) - 1, "focus": focus})
    return {"tip_rows": rows, "tip_form": add_form or TipMenuItemForm()}


def _tip_menu_reply(request, performer, *, status=200, **context):
    """htmx swaps the panel alone; without JS, errors re-render the page at
    the field and a success goes back to it."""
    if request.headers.get("HX-Request"):
        context = {"performer": performer, **_tip_menu_context(performer, **context)}
        return render(request, "dashboard/_tip_menu.html", context, status=status)
    if status == 200:
        return redirect("dashboard_room")
    page = _room_context(request, performer)
    page.update(_tip_menu_context(performer, **context))
    return render(request, "dashboard/room.html", page, status=status)


def _service_error_on(form, exc) -> None:
    """A refusal from the service (limits live in billing.prices), shown at its field."""
    field = {"bad_label": "label", "bad_tokens": "tokens"}.get(exc.code)
    form.add_error(field, exc.message)


@performer_required
@require_POST
def tip_menu(request):
    """Add, edit, move (up/down buttons, keyboard-friendly) and remove items."""
    performer = request.performer
    post = request.POST
    if post.get("remove"):
        services.remove_tip_menu_item(performer=performer, item_id=_int(post["remove"]), request=request)
        if not request.headers.get("HX-Request"):
            messages.success(request, "Tip-menu item removed.")
        return _tip_menu_reply(request, performer)
    for direction, offset in (("up", -1), ("down", 1)):
        if post.get(direction):
            item_id = _int(post[direction])
            try:
                services.move_tip_menu_item(performer=performer, item_id=item_id, offset=offset, request=request)
            except services.SettingsError as exc:
                raise Http404(exc.message) from None  # not one of this performer's items
            return _tip_menu_reply(request, performer, moved=(item_id, direction))
    item_id = _int(post.get("edit")) if post.get("edit") else None
    form = TipMenuItemForm(post, auto_id=f"tip{item_id}-%s" if item_id else "id_%s")
    if form.is_valid():
        try:
            if item_id:
                services.update_tip_menu_item(
                    performer=performer, item_id=item_id, request=request, **form.cleaned_data
                )
            else:
                services.add_tip_menu_item(performer=performer, request=request, **form.cleaned_data)
        except services.SettingsError as exc:
            if exc.status == 404:
                raise Http404(exc.message) from None
            _service_error_on(form, exc)
        else:
            if not request.headers.get("HX-Request"):
                messages.success(request, "Tip menu saved.")
            return _tip_menu_reply(request, performer)
    # 422 so htmx swaps the panel with the errors in place (see base.html's htmx-config).
    if item_id:
        return _tip_menu_reply(request, performer, status=422, failed_id=item_id, failed_form=form)
    return _tip_menu_reply(request, performer, status=422, add_form=form)


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
