from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "marquee.recommendations"
    label = "recommendations"
