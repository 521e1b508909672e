from __future__ import annotations

import csv

from django.contrib import admin
from django.http import StreamingHttpResponse

from marquee.audit.models import AuditEvent
from marquee.lib.spreadsheets import csv_safe


class _Echo:
    def write(self, value):
        return value


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only (PostgreSQL refuses edits anyway)."""

    list_display = ["id", "created_at", "chain", "sequence", "action", "actor_label", "ip", "target_type", "target_id"]
    ordering = ["-created_at", "-sequence"]  # newest first: staff look for what just happened
    list_filter = ["action", "target_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["action", "actor_label", "ip", "target_id"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    list_per_page = 100

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Export selected rows as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        columns = ["id", "chain", "sequence", "created_at", "actor_id", "actor_label", "action", "ip", "user_agent",
                   "target_type", "target_id", "details", "prev_hash", "entry_hash"]  # fmt: skip
        writer = csv.writer(_Echo())

        def rows():
            yield writer.writerow(columns)
            for event in queryset.order_by("created_at", "chain", "sequence").iterator(chunk_size=2000):
                yield writer.writerow([csv_safe(getattr(event, column)) for column in columns])

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response
