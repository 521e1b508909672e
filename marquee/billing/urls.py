from django.urls import path

from marquee.billing import views
from marquee.billing.gateways.paypal import views as paypal_views

urlpatterns = [
    path("billing/checkout/", views.checkout_start, name="checkout_start"),
    path("billing/checkout/<uuid:reference>/return/", views.checkout_return, name="checkout_return"),
    path("billing/sandbox/<uuid:reference>/", views.sandbox_checkout, name="sandbox_checkout"),
    path("billing/paypal/<uuid:reference>/return/", paypal_views.paypal_return, name="paypal_return"),
    path("billing/receipts/<uuid:reference>/", views.receipt, name="receipt"),
    path("billing/purchases/", views.purchase_history, name="purchase_history"),
    path("billing/wallet/", views.wallet, name="wallet"),
    path("billing/subscriptions/<int:pk>/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("rooms/<str:username>/tip/", views.tip_send, name="tip_send"),
    path("webhooks/<slug:provider>/", views.webhook, name="webhook"),
]
