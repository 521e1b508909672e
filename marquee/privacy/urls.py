from django.urls import path

from marquee.privacy import views

urlpatterns = [
    path("me/close/", views.close_account, name="privacy_close_account"),
    path("accounts/reopen/", views.reopen_account, name="privacy_reopen_account"),
    path("dashboard/travel/", views.travel_mode, name="privacy_travel_mode"),
    path("me/data/", views.my_data, name="privacy_my_data"),
    path("me/data/<str:token>/", views.export_download, name="privacy_export_download"),
]
