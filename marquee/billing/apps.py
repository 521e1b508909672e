from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "marquee.billing"
    label = "billing"
