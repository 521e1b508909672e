from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from marquee.access import selectors as access
from marquee.lib.errors import DomainError
from marquee.lib.fields import max_length
from marquee.lib.geo import location_for_request
from marquee.performers import selectors, services
from marquee.performers.models import Performer, Tag
from marquee.shows import selectors as show_selectors


def home(request):
    location = location_for_request(request)
    filters = selectors.browse_filters(request.GET)
    tag, language, query = filters["tag"], filters["language"], filters["query"]
    performers = selectors.browse_performers(location=location, **filters)
    page = Paginator(performers, 24).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "performers": selectors.attach_viewer_counts(page.object_list),
        "tags": Tag.objects.filter(kind=Tag.Kind.TAG),
        "languages": Tag.objects.filter(kind=Tag.Kind.LANGUAGE),
        "active_tag": tag,
        "active_language": language,
        "query": query,
    }
    template = "performers/_grid.html" if request.headers.get("HX-Request") else "performers/home.html"
    return render(request, template, context)


def _performer_or_404(request, username):
    performer = selectors.get_visible_performer(username, viewer=request.user, location=location_for_request(request))
    if performer is None:
        raise DomainError("not_found", "This room does not exist.", 404)  # styled page, DEBUG or not
    return performer


def room(request, username):
    viewer = access.Viewer.from_request(request)
    performer = access.find_room(viewer, username)
    if performer is None:
        raise DomainError("not_found", "This room does not exist.", 404)  # styled page, DEBUG or not
    context = {
        "performer": performer,
        "show": show_selectors.current_show(performer),
        "upcoming": show_selectors.upcoming_shows(performer),
        "is_following": selectors.is_following(request.user, performer),
        # The chat panel and the tip panel read whether the viewer moderates
        # and the tip menu themselves (this page used to query both for nothing).
        # Performers don't follow or tip themselves: a way to their dashboard instead.
        "is_own_room": viewer.owns(performer),
        "tags": performer.tags.filter(kind__in=[Tag.Kind.TAG, Tag.Kind.LANGUAGE]),
    }
    return render(request, "performers/room.html", context)


def profile(request, username):
    performer = _performer_or_404(request, username)
    context = {
        "performer": performer,
        "upcoming": show_selectors.upcoming_shows(performer, limit=10),
        "is_following": selectors.is_following(request.user, performer),
        "is_own_room": access.Viewer.from_request(request).owns(performer),
        "tags": performer.tags.all(),
    }
    return render(request, "performers/profile.html", context)


@login_required
@require_POST
def follow(request, username):
    performer = _performer_or_404(request, username)
    if request.POST.get("action") == "unfollow":
        services.unfollow_performer(user=request.user, performer=performer)
    else:
        services.follow_performer(user=request.user, performer=performer)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "performers/_follow_button.html",
            {"performer": performer, "is_following": selectors.is_following(request.user, performer)},
        )
    return redirect("room", username=performer.username)


class ApplyForm(forms.Form):
    display_name = forms.CharField(
        max_length=max_length(Performer, "display_name"),
        help_text="Shown on your room and profile. You can change it later.",
    )
    accept_terms = forms.BooleanField(
        label="I am 18 or older and will only perform on camera with people who are 18 or older and have agreed to it."
    )


@login_required
def apply(request):
    existing = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
    form = ApplyForm(request.POST or None, initial={"display_name": request.user.username})
    if existing is None and request.method == "POST" and form.is_valid():
        try:
            services.apply_as_performer(
                user=request.user, display_name=form.cleaned_data["display_name"], request=request
            )
        except services.ApplicationRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Application received. Turn on two-factor authentication while we review it.")
            return redirect("account")
    return render(request, "performers/apply.html", {"form": form, "existing": existing})
