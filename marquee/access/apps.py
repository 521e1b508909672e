from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "marquee.access"
    label = "access"
    verbose_name = "Access (entitlement)"
