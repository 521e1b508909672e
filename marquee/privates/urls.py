from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.privates import views

urlpatterns = [
    path("private/<id:pk>/receipt/", views.receipt, name="private_receipt"),
    path("dashboard/private-shows/", views.dashboard, name="dashboard_privates"),
    path("private/recordings/<str:token>/", views.recording_file, name="private_recording_file"),
]
