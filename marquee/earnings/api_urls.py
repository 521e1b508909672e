from django.urls import path

from marquee.earnings import api

urlpatterns = [
    path("dashboard/earnings/", api.EarningsView.as_view(), name="api_dashboard_earnings"),
    # Balances and payouts (was served by billing; one earnings API now).
    path("earnings/", api.BalancesAndPayoutsView.as_view(), name="api_earnings"),
]
