from django.apps import AppConfig


class PerformersConfig(AppConfig):
    name = "marquee.performers"
    label = "performers"
