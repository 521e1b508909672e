from django.urls import path

from marquee.shows import schedule_views

urlpatterns = [
    path("dashboard/schedule/", schedule_views.schedule_page, name="dashboard_schedule"),
    path("dashboard/schedule/shows/", schedule_views.schedule_one_off, name="dashboard_schedule_one_off"),
    path("dashboard/schedule/recurring/", schedule_views.schedule_recurring, name="dashboard_schedule_recurring"),
    path("dashboard/schedule/shows/<int:show_id>/cancel/", schedule_views.cancel_show, name="dashboard_show_cancel"),
    path("dashboard/schedule/rules/<int:rule_id>/", schedule_views.rule_action, name="dashboard_rule_action"),
    path("notifications/", schedule_views.notifications, name="notifications"),
]
