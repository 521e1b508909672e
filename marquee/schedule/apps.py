from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "marquee.schedule"
    label = "schedule"
    verbose_name = "One-off and recurring show schedules, follower notifications"

    def ready(self):
        from marquee.schedule import subscribers

        subscribers.connect()
