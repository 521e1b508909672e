from django.contrib import admin, messages

from marquee.billing import services
from marquee.billing.gateways import get_gateway
from marquee.billing.gateways.paypal.gateway import CONTENT_POLICY_WARNING
from marquee.billing.models import Payout, Purchase, Subscription, Tip, WebhookEvent
from marquee.lib.admin_actions import perm_checker
from marquee.lib.errors import DomainError


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    list_display = ["reference", "user", "product", "description", "amount_cents", "provider", "status", "created_at"]
    list_filter = ["status", "product", "provider"]
    search_fields = ["reference", "provider_reference", "user__username", "user__email"]
    readonly_fields = [f.name for f in Purchase._meta.fields]
    actions = ["refund_purchase", "sandbox_chargeback"]

    has_refund_permission = perm_checker("billing.refund_purchase")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if get_gateway("paypal", require_enabled=False).is_enabled():
            self.message_user(request, CONTENT_POLICY_WARNING, messages.WARNING)
        return super().changelist_view(request, extra_context)

    def _reverse(self, request, queryset, chargeback: bool):
        for purchase in queryset:
            try:
                if chargeback:
                    outcomes = services.sandbox_reverse(purchase=purchase, chargeback=True)
                else:
                    outcomes = services.staff_refund(purchase=purchase, actor=request.user)
            except (services.BillingError, DomainError) as exc:
                self.message_user(request, f"{purchase.reference}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{purchase.reference}: {', '.join(outcomes)}")

    @admin.action(description="Refund (through the purchase's provider)", permissions=["refund"])
    def refund_purchase(self, request, queryset):
        self._reverse(request, queryset, chargeback=False)

    @admin.action(description="Chargeback through the sandbox provider", permissions=["refund"])
    def sandbox_chargeback(self, request, queryset):
        self._reverse(request, queryset, chargeback=True)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "performer", "status", "current_period_end", "provider", "provider_subscription_id"]
    list_filter = ["status", "provider"]
    readonly_fields = [f.name for f in Subscription._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["provider", "event_id", "event_type", "outcome", "received_at"]
    list_filter = ["provider", "event_type"]
    search_fields = ["event_id"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Tip)
class TipAdmin(admin.ModelAdmin):
    list_display = ["user", "performer", "tokens", "created_at"]
    readonly_fields = [f.name for f in Tip._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    """The payout rail is an adapter point; with the manual rail, staff pay
    out of band and mark the payout here."""

    list_display = ["reference", "performer", "amount_cents", "status", "method", "period", "created_at", "settled_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Payout._meta.fields]
    actions = ["mark_paid", "mark_failed"]

    def has_add_permission(self, request):
        return False

    def _settle(self, request, queryset, paid):
        for payout in queryset:
            try:
                services.settle_payout(payout=payout, paid=paid, rail_reference="manual", actor=request.user)
            except services.BillingError as exc:
                self.message_user(request, f"{payout.reference}: {exc.message}", messages.ERROR)

    @admin.action(description="Mark paid (sent by hand)")
    def mark_paid(self, request, queryset):
        self._settle(request, queryset, True)

    @admin.action(description="Mark failed (return to available)")
    def mark_failed(self, request, queryset):
        self._settle(request, queryset, False)
