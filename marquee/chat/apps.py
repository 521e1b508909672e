from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "marquee.chat"
    label = "chat"
