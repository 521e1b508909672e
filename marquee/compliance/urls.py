from django.urls import path

from marquee.compliance import views

urlpatterns = [
    path("verify-age/", views.age_verification, name="age_verification"),
    path("verify-age/start/", views.start_age_verification, name="age_verification_start"),
    path("verify-age/documents/<int:pk>/", views.age_document, name="age_document"),
    path("webhooks/verification/<str:provider>/", views.verification_webhook, name="verification_webhook"),
    path("performer-verification/", views.performer_verification, name="performer_verification"),
    path("records/documents/<int:pk>/", views.record_document, name="record_document"),
    path("legal/2257/", views.statement_2257, name="legal_2257"),
]
