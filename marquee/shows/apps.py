from django.apps import AppConfig


class ShowsConfig(AppConfig):
    name = "marquee.shows"
    label = "shows"

    def ready(self):
        # Celery autodiscovery only imports ``tasks``; the schedule's tasks live apart.
        from marquee.shows import schedule_subscribers, schedule_tasks  # noqa: F401

        schedule_subscribers.connect()
