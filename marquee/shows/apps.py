from django.apps import AppConfig


class ShowsConfig(AppConfig):
    name = "marquee.shows"
    label = "shows"
