"""Staff's view of paid content: look at sets and take one down (through
``content.services``, audit-logged)."""

from __future__ import annotations

from django.contrib import admin

from marquee.content import services
from marquee.content.models import ContentPurchase, MediaItem, MediaSet
from marquee.lib.admin_actions import ask_reason


class MediaItemInline(admin.TabularInline):
    model = MediaItem
    extra = 0
    can_delete = False
    fields = ["kind", "mime", "size_bytes", "width", "height", "status", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MediaSet)
class MediaSetAdmin(admin.ModelAdmin):
    list_display = ["title", "performer", "is_published", "price_tokens", "free_for_subscribers", "created_at"]
    list_filter = ["is_published", "free_for_subscribers"]
    search_fields = ["title", "performer__display_name", "performer__user__username"]
    readonly_fields = [f.name for f in MediaSet._meta.fields]
    inlines = [MediaItemInline]
    actions = ["take_down"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Take down (unpublish) selected sets", permissions=["change"])
    def take_down(self, request, queryset):
        reason, page = ask_reason(self, request, queryset, title="Take down sets")
        if page:
            return page
        done = sum(
            services.take_down_set(media_set=s, actor=request.user, reason=reason, request=request) for s in queryset
        )
        self.message_user(request, f"{done} set(s) taken down.")
        return None


@admin.register(ContentPurchase)
class ContentPurchaseAdmin(admin.ModelAdmin):
    list_display = ["user", "media_set", "price_tokens", "created_at"]
    readonly_fields = [f.name for f in ContentPurchase._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
