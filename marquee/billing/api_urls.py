from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.billing import api

urlpatterns = [
    path("checkout/", api.CheckoutView.as_view(), name="api_checkout"),
    path("wallet/", api.WalletView.as_view(), name="api_wallet"),
    path("purchases/", api.PurchaseListView.as_view(), name="api_purchases"),
    path("purchases/<uuid:reference>/", api.PurchaseDetailView.as_view(), name="api_purchase"),
    path("subscriptions/", api.SubscriptionListView.as_view(), name="api_subscriptions"),
    path("subscriptions/<id:pk>/cancel/", api.SubscriptionCancelView.as_view(), name="api_subscription_cancel"),
    path("rooms/<str:username>/tips/", api.RoomTipsView.as_view(), name="api_room_tips"),
    path("payouts/", api.PayoutView.as_view(), name="api_payouts"),
    path("payouts/settings/", api.PayoutSettingsView.as_view(), name="api_payout_settings"),
]
