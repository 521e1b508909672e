from django.urls import path

from marquee.earnings import payouts, views

urlpatterns = [
    path("dashboard/earnings/", views.earnings_page, name="dashboard_earnings"),
    path("dashboard/earnings.csv", views.earnings_csv, name="dashboard_earnings_csv"),
    path("dashboard/payouts/", payouts.payouts_page, name="dashboard_payouts"),
    path("dashboard/payouts/request/", payouts.request_payout, name="dashboard_payout_request"),
    path("dashboard/payouts/settings/", payouts.payout_settings, name="dashboard_payout_settings"),
]
