from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "marquee.content"
    label = "content"
