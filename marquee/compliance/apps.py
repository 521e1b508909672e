from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "marquee.compliance"
    label = "compliance"
