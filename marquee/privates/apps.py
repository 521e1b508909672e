from django.apps import AppConfig


class PrivatesConfig(AppConfig):
    name = "marquee.privates"
    label = "privates"
    verbose_name = "Private, spy and group shows"

    def ready(self):
        from marquee.privates import subscribers

        subscribers.connect()
