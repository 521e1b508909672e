from django.apps import AppConfig


class EarningsConfig(AppConfig):
    name = "marquee.earnings"
    label = "earnings"
    verbose_name = "Performer earnings (read from the ledger)"
