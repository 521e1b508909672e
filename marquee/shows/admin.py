"""Staff's view of shows: end a live show (through ``shows.services``,
audit-logged; the media server cuts the stream at its next update)."""

from __future__ import annotations

from django.contrib import admin

from marquee.lib.admin_actions import ask_reason, perm_checker
from marquee.shows import services
from marquee.shows.models import Show


@admin.register(Show)
class ShowAdmin(admin.ModelAdmin):
    list_display = ["title", "performer", "kind", "status", "scheduled_start", "started_at", "ended_at"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "performer__display_name", "performer__user__username"]
    readonly_fields = [f.name for f in Show._meta.fields]
    actions = ["end_live"]

    has_end_show_permission = perm_checker("shows.end_show")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="End selected live shows now", permissions=["end_show"])
    def end_live(self, request, queryset):
        reason, page = ask_reason(self, request, queryset, title="End live shows")
        if page:
            return page
        done = sum(
            services.end_show_by_staff(show=show, actor=request.user, reason=reason, request=request)
            for show in queryset
        )
        self.message_user(request, f"{done} show(s) ended.")
        return None
