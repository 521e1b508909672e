from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "marquee.billing"
    label = "billing"

    def ready(self):
        from marquee.billing import subscribers

        subscribers.connect()
