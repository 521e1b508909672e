from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "marquee.chat"
    label = "chat"

    def ready(self):
        from marquee.chat import signals  # noqa: F401  (connects the logout hook)
