"""Staff's view of performers: suspend and unsuspend a room (through
``performers.services``, audit-logged).  Identity verification is decided
and revoked on the performer's record (compliance)."""

from __future__ import annotations

from django.contrib import admin

from marquee.lib.admin_actions import ask_reason, perm_checker
from marquee.performers import services
from marquee.performers.models import Performer


@admin.register(Performer)
class PerformerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "verification_status", "is_suspended", "created_at"]
    list_filter = ["verification_status", "is_suspended"]
    search_fields = ["display_name", "user__username", "user__email"]
    fields = [
        "user", "display_name", "bio", "verification_status", "is_suspended", "suspended_reason",
        "room_topic", "default_show_kind", "stream_key_rotated_at", "created_at",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["suspend", "unsuspend"]

    has_suspend_permission = perm_checker("performers.suspend_performer")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Suspend selected performers (a live stream is cut)", permissions=["suspend"])
    def suspend(self, request, queryset):
        reason, page = ask_reason(self, request, queryset, title="Suspend performers")
        if page:
            return page
        done = sum(
            services.suspend_performer(performer=p, actor=request.user, reason=reason, request=request)
            for p in queryset
        )
        self.message_user(request, f"{done} performer(s) suspended.")
        return None

    @admin.action(description="Unsuspend selected performers", permissions=["suspend"])
    def unsuspend(self, request, queryset):
        done = sum(services.unsuspend_performer(performer=p, actor=request.user, request=request) for p in queryset)
        self.message_user(request, f"{done} performer(s) unsuspended.")
