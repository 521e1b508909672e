from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "marquee.accounts"
    label = "accounts"

    def ready(self):
        from marquee.accounts import audit_hooks

        audit_hooks.connect()
