from django.apps import AppConfig


class PrivatesConfig(AppConfig):
    name = "marquee.privates"
    label = "privates"
    verbose_name = "Private, spy and group shows"

    def ready(self) -> None:
        from marquee.lib import domain_events
        from marquee.privates import push, subscribers
        from marquee.privates.events import private_show_event

        private_show_event.connect(push.on_event, dispatch_uid="privates.push")
        domain_events.subscribe("chat.banned", subscribers.on_chat_banned)
        domain_events.subscribe("show.went_live", subscribers.on_show_went_live)
