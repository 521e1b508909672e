from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "marquee.compliance"
    label = "compliance"

    def ready(self):
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from marquee.compliance.services import audit_admin_change

        # Every admin change (any app) lands in the audit chain, inside the
        # admin view's own transaction.
        post_save.connect(audit_admin_change, sender=LogEntry, dispatch_uid="compliance.audit_admin_change")
