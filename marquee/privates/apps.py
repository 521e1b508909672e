from django.apps import AppConfig


class PrivatesConfig(AppConfig):
    name = "marquee.privates"
    label = "privates"
    verbose_name = "Private, spy and group shows"

    def ready(self) -> None:
        from marquee.privates import push
        from marquee.privates.events import private_show_event

        private_show_event.connect(push.on_event, dispatch_uid="privates.push")
