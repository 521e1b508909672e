from django.urls import path

from marquee.privacy import api

urlpatterns = [
    path("me/close/", api.CloseAccountView.as_view(), name="api_close_account"),
    path("account/reopen/", api.ReopenAccountView.as_view(), name="api_reopen_account"),
    path("me/export/", api.DataExportView.as_view(), name="api_data_export"),
    path("dashboard/travel-mode/", api.TravelModeView.as_view(), name="api_travel_mode"),
]
