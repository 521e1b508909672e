from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "marquee.schedule"
    label = "schedule"
    verbose_name = "One-off and recurring show schedules, follower notifications"

    def ready(self):
        from marquee.lib import domain_events
        from marquee.schedule import tasks

        domain_events.subscribe("show.started", tasks.on_show_started)
