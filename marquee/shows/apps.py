from django.apps import AppConfig


class ShowsConfig(AppConfig):
    name = "marquee.shows"
    label = "shows"

    def ready(self):
        # Celery autodiscovery only imports ``tasks``; the schedule's tasks live apart.
        from marquee.shows import schedule_tasks  # noqa: F401
