from django.urls import re_path

from marquee.accounts import api

urlpatterns = [
    re_path(r"^me/?$", api.MeView.as_view(), name="api_me"),
]
