from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.shows import schedule_api, schedule_views

urlpatterns = [
    # Under /api/ so calendar apps (no session, no age-gate cookie) can subscribe.
    path("performers/<str:username>/schedule.ics", schedule_views.ical_feed, name="schedule_ical"),
    path("performers/<str:username>/schedule/", schedule_api.PublicScheduleView.as_view(), name="api_public_schedule"),
    path("dashboard/schedule/", schedule_api.ScheduleView.as_view(), name="api_dashboard_schedule"),
    path("dashboard/schedule/shows/", schedule_api.ShowCreateView.as_view(), name="api_dashboard_shows"),
    path(
        "dashboard/schedule/shows/<id:show_id>/cancel/",
        schedule_api.ShowCancelView.as_view(),
        name="api_dashboard_show_cancel",
    ),
    path("dashboard/schedule/rules/", schedule_api.RuleCreateView.as_view(), name="api_dashboard_rules"),
    path("dashboard/schedule/rules/<id:rule_id>/", schedule_api.RuleDetailView.as_view(), name="api_dashboard_rule"),
    path("me/notifications/", schedule_api.NotificationsView.as_view(), name="api_notifications"),
]
