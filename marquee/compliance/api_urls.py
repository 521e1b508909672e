from django.urls import path

from marquee.compliance import api

urlpatterns = [
    path("age-verification/", api.AgeVerificationStatusView.as_view(), name="api_age_verification"),
    path("performer-verification/", api.PerformerRecordStatusView.as_view(), name="api_performer_verification"),
]
