from django.contrib import admin

from marquee.chat.models import ChatBan, ChatMessage, ChatRoomRules, ModerationAction


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("performer", "seq", "author_name", "state", "created_at")
    list_filter = ("state",)
    search_fields = ("author_name", "text")
    readonly_fields = ("performer", "seq", "author", "author_name", "author_role", "text", "flags", "created_at")


@admin.register(ChatBan)
class ChatBanAdmin(admin.ModelAdmin):
    list_display = ("user", "performer", "kind", "expires_at", "lifted_at", "created_by")
    list_filter = ("kind",)
    raw_id_fields = ("user", "performer", "created_by")

    # Read-only: bans go through the services (audit row, sockets closed).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChatRoomRules)
class ChatRoomRulesAdmin(admin.ModelAdmin):
    list_display = ("performer",)
    raw_id_fields = ("performer",)


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    list_display = ("performer", "action", "actor", "target_user", "created_at")
    list_filter = ("action",)
    readonly_fields = ("performer", "action", "actor", "target_user", "details", "created_at")
