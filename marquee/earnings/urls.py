from django.urls import path

from marquee.earnings import views

urlpatterns = [
    path("dashboard/earnings/", views.earnings_page, name="dashboard_earnings"),
    path("dashboard/earnings.csv", views.earnings_csv, name="dashboard_earnings_csv"),
]
