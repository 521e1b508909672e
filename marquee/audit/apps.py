from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "marquee.audit"
    label = "audit"

    def ready(self):
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from marquee.audit.services import audit_admin_change

        # Every admin change (any app) lands in the audit chain, inside the
        # admin view's own transaction.
        post_save.connect(audit_admin_change, sender=LogEntry, dispatch_uid="audit.audit_admin_change")
        _audit_bulk_log_entries()


def _audit_bulk_log_entries():
    """Django writes the log entries of a multi-object admin action (e.g.
    "delete selected") with bulk_create, which sends no post_save: audit
    those from the manager method instead."""
    from django.contrib.admin.models import LogEntry, LogEntryManager

    from marquee.audit.services import audit_admin_change

    original = LogEntryManager.log_actions
    if getattr(original, "_marquee_audited", False):
        return

    def log_actions(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if isinstance(result, list) and len(result) > 1:
            for entry in result:
                audit_admin_change(LogEntry, entry, created=True)
        return result

    log_actions._marquee_audited = True
    LogEntryManager.log_actions = log_actions
