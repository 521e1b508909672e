from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    name = "marquee.recommendations"
    label = "recommendations"

    def ready(self):
        from marquee.recommendations import subscribers

        subscribers.connect()
