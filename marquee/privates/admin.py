from django.contrib import admin

from marquee.privates.models import GroupShow, PrivateShow


@admin.register(PrivateShow)
class PrivateShowAdmin(admin.ModelAdmin):
    """Read-only: sessions change only through privates.services (money moves with them)."""

    list_display = ["pk", "kind", "status", "performer", "payer", "periods_charged", "requested_at", "end_reason"]
    list_filter = ["kind", "status", "end_reason"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GroupShow)
class GroupShowAdmin(PrivateShowAdmin):
    list_display = ["pk", "performer", "status", "rate_tokens", "goal_viewers", "deadline"]
    list_filter = ["status"]
