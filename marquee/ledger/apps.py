from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "marquee.ledger"
    label = "ledger"
