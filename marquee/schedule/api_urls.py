from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.schedule import api, views

urlpatterns = [
    # Under /api/ so calendar apps (no session, no age-gate cookie) can subscribe.
    path("performers/<str:username>/schedule.ics", views.ical_feed, name="schedule_ical"),
    path("performers/<str:username>/schedule/", api.PublicScheduleView.as_view(), name="api_public_schedule"),
    path("dashboard/schedule/", api.ScheduleView.as_view(), name="api_dashboard_schedule"),
    path("dashboard/schedule/shows/", api.ShowCreateView.as_view(), name="api_dashboard_shows"),
    path(
        "dashboard/schedule/shows/<id:show_id>/cancel/",
        api.ShowCancelView.as_view(),
        name="api_dashboard_show_cancel",
    ),
    path("dashboard/schedule/rules/", api.RuleCreateView.as_view(), name="api_dashboard_rules"),
    path("dashboard/schedule/rules/<id:rule_id>/", api.RuleDetailView.as_view(), name="api_dashboard_rule"),
    path("me/notifications/", api.NotificationsView.as_view(), name="api_notifications"),
]
