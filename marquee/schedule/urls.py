from django.urls import path

from marquee.schedule import views

urlpatterns = [
    path("dashboard/schedule/", views.schedule_page, name="dashboard_schedule"),
    path("dashboard/schedule/shows/", views.schedule_one_off, name="dashboard_schedule_one_off"),
    path("dashboard/schedule/recurring/", views.schedule_recurring, name="dashboard_schedule_recurring"),
    path("dashboard/schedule/shows/<int:show_id>/cancel/", views.cancel_show, name="dashboard_show_cancel"),
    path("dashboard/schedule/rules/<int:rule_id>/", views.rule_action, name="dashboard_rule_action"),
    path("notifications/", views.notifications, name="notifications"),
]
