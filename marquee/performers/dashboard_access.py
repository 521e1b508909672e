"""Who may use the performer dashboard: a logged-in user with a performer profile."""

from __future__ import annotations

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from marquee.performers.models import Performer
from marquee.performers.selectors import performer_zone


def dashboard_performer(user) -> Performer | None:
    if not user or not user.is_authenticated:
        return None
    return Performer.objects.select_related("user").filter(user=user).first()


def performer_required(view):
    """Page decorator: sets ``request.performer``; strangers get 403, anonymous users the login page."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        performer = dashboard_performer(request.user)
        if performer is None:
            raise PermissionDenied("The dashboard is for performers.")
        request.performer = performer
        # Dashboard pages show times in the performer's own timezone.
        with timezone.override(performer_zone(performer)):
            return view(request, *args, **kwargs)

    return wrapper


class IsPerformer:
    """DRF permission for /api/v1/dashboard/…: the caller must be a performer;
    sets ``request.performer``.  Strangers get 403 (error code ``not_a_performer``)."""

    message = "The dashboard API is for performers."
    code = "not_a_performer"

    def has_permission(self, request, view) -> bool:
        performer = dashboard_performer(request.user)
        if performer is None:
            return False
        request.performer = performer
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        return True
