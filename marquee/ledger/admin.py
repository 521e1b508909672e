from django.contrib import admin

from marquee.ledger.models import Account, Entry, Transfer


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is append-only: the admin may look, never touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "unit", "balance", "user", "performer"]
    list_filter = ["kind", "unit"]
    search_fields = ["code", "user__username"]


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount", "unit", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "created_at", "user", "performer", "gross_cents", "performer_cents"]
    list_filter = ["kind"]
    search_fields = ["idempotency_key", "source_id"]
    inlines = [EntryInline]
