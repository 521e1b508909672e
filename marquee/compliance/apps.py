from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "marquee.compliance"
    label = "compliance"

    def ready(self):
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from marquee.compliance import services
        from marquee.compliance.services import audit_admin_change

        # Every admin change (any app) lands in the audit chain, inside the
        # admin view's own transaction.
        post_save.connect(audit_admin_change, sender=LogEntry, dispatch_uid="compliance.audit_admin_change")
        _audit_bulk_log_entries()
        _audit_authentication(services)


def _audit_authentication(services):
    """Logins, logouts, failures and 2FA changes into the audit chain."""
    from allauth.mfa import signals as mfa
    from django.contrib.auth import signals as auth

    auth.user_logged_in.connect(services.audit_login, dispatch_uid="compliance.login")
    auth.user_logged_out.connect(services.audit_logout, dispatch_uid="compliance.logout")
    auth.user_login_failed.connect(services.audit_login_failed, dispatch_uid="compliance.login_failed")
    mfa.authenticator_added.connect(services.audit_mfa_added, dispatch_uid="compliance.mfa_added")
    mfa.authenticator_removed.connect(services.audit_mfa_removed, dispatch_uid="compliance.mfa_removed")
    mfa.authenticator_reset.connect(services.audit_mfa_reset, dispatch_uid="compliance.mfa_reset")
    mfa.authentication_failed.connect(services.audit_mfa_failed, dispatch_uid="compliance.mfa_failed")


def _audit_bulk_log_entries():
    """Django writes the log entries of a multi-object admin action (e.g.
    "delete selected") with bulk_create, which sends no post_save: audit
    those from the manager method instead."""
    from django.contrib.admin.models import LogEntry, LogEntryManager

    from marquee.compliance.services import audit_admin_change

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
