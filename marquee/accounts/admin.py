"""Staff's view of accounts: look people up, suspend and unsuspend (through
``accounts.services``, audit-logged).  Accounts are never edited or deleted
here: closure and erasure go through the privacy flow."""

from __future__ import annotations

from django.contrib import admin, messages

from marquee.accounts import services
from marquee.accounts.models import User
from marquee.lib.admin_actions import ask_reason, perm_checker


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["username", "email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["username", "email"]
    fields = ["username", "email", "date_of_birth", "timezone", "is_active", "is_staff", "date_joined", "last_login"]
    readonly_fields = fields
    actions = ["suspend", "unsuspend"]

    has_suspend_permission = perm_checker("accounts.suspend_user")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Suspend selected accounts (log them out everywhere)", permissions=["suspend"])
    def suspend(self, request, queryset):
        reason, page = ask_reason(self, request, queryset, title="Suspend accounts")
        if page:
            return page
        done = sum(
            services.suspend_user(user=user, actor=request.user, reason=reason, request=request)
            for user in queryset.exclude(pk=request.user.pk)
        )
        self.message_user(request, f"{done} account(s) suspended.")
        return None

    @admin.action(description="Unsuspend selected accounts", permissions=["suspend"])
    def unsuspend(self, request, queryset):
        done = sum(services.unsuspend_user(user=user, actor=request.user, request=request) for user in queryset)
        self.message_user(request, f"{done} account(s) unsuspended.", messages.SUCCESS)
