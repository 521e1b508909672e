from django.apps import AppConfig


class ShowsConfig(AppConfig):
    name = "marquee.shows"
    label = "shows"

    def ready(self):
        # Celery autodiscovery only imports ``tasks``; the schedule's tasks live apart.
        from marquee.lib import domain_events
        from marquee.shows import schedule_tasks, tasks  # noqa: F401

        domain_events.subscribe("show.started", tasks.on_show_started)
