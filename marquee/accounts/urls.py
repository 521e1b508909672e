from django.urls import path

from marquee.accounts import views

urlpatterns = [
    path("age-gate/", views.age_gate, name="age_gate"),
    path("me/", views.account, name="account"),
    path("me/timezone/", views.set_timezone, name="account_timezone"),
    path("me/tipping/", views.set_tipping, name="account_tipping"),
]
