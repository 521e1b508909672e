from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "marquee.privacy"
    label = "privacy"
    verbose_name = "Privacy and data rights"
