from django.urls import path

from marquee.privacy import views

urlpatterns = [
    path("me/close/", views.close_account, name="privacy_close_account"),
]
