from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from marquee.compliance import exports, records, selectors, services
from marquee.compliance.forms import ReviewForm
from marquee.compliance.models import AgeVerification, Jurisdiction, PerformerRecord, RecordAlias
from marquee.lib.admin_actions import ask_reason, perm_checker

DECLINE_REASON = "The document could not be accepted. Upload a clear photo of a valid ID."


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["country", "subdivision", "rule", "is_active", "reason", "updated_at"]
    list_filter = ["rule", "is_active", "country"]
    search_fields = ["country", "subdivision", "reason"]
    list_editable = ["rule", "is_active"]

    def save_model(self, request, obj, form, change):
        services.save_jurisdiction(jurisdiction=obj, actor=request.user, request=request, change=change)

    def delete_model(self, request, obj):
        services.delete_jurisdiction(jurisdiction=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for jurisdiction in queryset:
            services.delete_jurisdiction(jurisdiction=jurisdiction, actor=request.user, request=request)


@admin.register(AgeVerification)
class AgeVerificationAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "method", "status", "created_at", "decided_at"]
    list_filter = ["status", "provider"]
    search_fields = ["user__username", "user__email", "provider_reference"]
    readonly_fields = [
        "user", "provider", "method", "provider_reference", "status", "decision_reason",
        "created_at", "decided_at", "reviewed_by", "document", "review_link",
    ]  # fmt: skip
    exclude = ["document_path"]
    actions = ["approve", "decline"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Decision")
    def review_link(self, obj):
        if obj.status != AgeVerification.Status.PENDING:
            return "—"
        return format_html(
            '<a class="button" href="{}">Approve or decline…</a>',
            reverse("admin:compliance_ageverification_review", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="compliance_ageverification_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, pk):
        """One verification, decided from its own page (the bulk actions do the same)."""
        if not self.has_change_permission(request):
            return redirect("admin:index")
        verification = get_object_or_404(AgeVerification, pk=pk)
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            approved = form.cleaned_data["decision"] == "approve"
            reason = form.cleaned_data["reason"].strip() or ("" if approved else DECLINE_REASON)
            try:
                services.decide_age_verification(
                    verification=verification, approved=approved, reason=reason, reviewer=request.user, request=request
                )
            except services.ComplianceError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"{verification}: {'approved' if approved else 'declined'}.")
            return redirect("admin:compliance_ageverification_change", verification.pk)
        context = {
            **self.admin_site.each_context(request),
            "verification": verification,
            "form": form,
            "opts": self.model._meta,
            "title": "Decide age verification",
        }
        return render(request, "admin/compliance/review_age.html", context)

    @admin.display(description="Document")
    def document(self, obj):
        if not obj.document_path:
            return "— (none, or deleted after the decision)"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">View uploaded document</a>',
            reverse("age_document", args=[obj.pk]),
        )

    def _decide(self, request, queryset, approved, reason=""):
        done = 0
        for verification in queryset.filter(status=AgeVerification.Status.PENDING):
            try:
                services.decide_age_verification(
                    verification=verification, approved=approved, reason=reason, reviewer=request.user, request=request
                )
                done += 1
            except services.ComplianceError as error:
                self.message_user(request, f"{verification}: {error.message}", messages.WARNING)
        self.message_user(
            request, f"{done} verification(s) {'approved' if approved else 'declined'}; documents deleted."
        )

    @admin.action(description="Approve selected pending verifications", permissions=["change"])
    def approve(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(description="Decline selected (document not acceptable)", permissions=["change"])
    def decline(self, request, queryset):
        self._decide(request, queryset, False, DECLINE_REASON)


class RecordAliasInline(admin.TabularInline):
    model = RecordAlias
    extra = 0
    can_delete = False
    readonly_fields = ["name"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PerformerRecord)
class PerformerRecordAdmin(admin.ModelAdmin):
    list_display = ["legal_name", "performer", "date_of_birth", "status", "submitted_at", "reviewed_at"]
    list_filter = ["status"]
    # Indexed by legal name, cross-referenced by every alias.
    search_fields = ["legal_name", "aliases__name", "performer__user__username", "performer__display_name"]
    readonly_fields = [
        "performer", "legal_name", "date_of_birth", "status", "rejection_reason",
        "submitted_at", "reviewed_at", "reviewed_by", "shows", "review_link",
    ]  # fmt: skip
    inlines = [RecordAliasInline]
    actions = ["export_records", "revoke_verification"]

    has_revoke_permission = perm_checker("compliance.revoke_verification")

    @admin.action(description="Revoke the performers' verification (a live stream is cut)", permissions=["revoke"])
    def revoke_verification(self, request, queryset):
        reason, page = ask_reason(self, request, queryset, title="Revoke verification")
        if page:
            return page
        done = sum(
            services.revoke_performer_verification(
                performer=record.performer, reason=reason, actor=request.user, request=request
            )
            for record in queryset.select_related("performer")
        )
        self.message_user(request, f"{done} verification(s) revoked.")
        return None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # records are kept (2257: at least 7 years)

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if selectors.may_view_id_documents(request.user):
            fields.append("documents_links")
        return fields

    @admin.display(description="ID documents (every view is audit-logged)")
    def documents_links(self, obj):
        return format_html_join(
            " · ", '<a href="{}" target="_blank" rel="noopener">{}</a>',
            ((reverse("record_document", args=[d.pk]), d.get_kind_display()) for d in obj.documents.all()),
        )  # fmt: skip

    @admin.display(description="Shows (host or co-performer)")
    def shows(self, obj):
        rows = exports.record_shows(obj)
        return format_html_join(", ", "#{} {} ({})", ((s["id"], s["title"], s["role"]) for s in rows)) or "—"

    @admin.display(description="Review")
    def review_link(self, obj):
        if obj.status != PerformerRecord.Status.PENDING:
            return "—"
        return format_html(
            '<a class="button" href="{}">Approve or reject…</a>',
            reverse("admin:compliance_performerrecord_review", args=[obj.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="compliance_performerrecord_review",
            ),
            *super().get_urls(),
        ]

    def review_view(self, request, pk):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        record = get_object_or_404(PerformerRecord, pk=pk)
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                records.review_performer_record(
                    record=record,
                    approved=form.cleaned_data["decision"] == "approve",
                    reason=form.cleaned_data["reason"],
                    reviewer=request.user,
                    request=request,
                )
            except services.ComplianceError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"{record.legal_name}: {record.get_status_display()}.")
            return redirect("admin:compliance_performerrecord_change", record.pk)
        context = {
            **self.admin_site.each_context(request),
            "record": record,
            "form": form,
            "opts": self.model._meta,
            "title": "Review record",
        }
        return render(request, "admin/compliance/review_record.html", context)

    @admin.action(description="Export selected records for a legal request (ZIP, custodian only)")
    def export_records(self, request, queryset):
        if not selectors.may_view_id_documents(request.user):
            self.message_user(request, "Only the custodian of records may export records.", messages.ERROR)
            return None
        data = exports.export_records_zip(records=queryset, actor=request.user, request=request)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="performer-records.zip"'
        return response
