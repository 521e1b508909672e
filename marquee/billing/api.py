"""JSON API of the money capability (``/api/v1/``)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.access import selectors as access
from marquee.accounts.selectors import require_recent_reauthentication
from marquee.billing import prices, selectors, services
from marquee.billing.gateways import GatewayNotConfigured
from marquee.billing.views import ask_to_buy, checkout_target, success_url_builder
from marquee.ledger import selectors as ledger_selectors
from marquee.lib.api_errors import ApiError
from marquee.lib.api_schema import errors


class PurchaseSerializer(serializers.Serializer):
    reference = serializers.UUIDField()
    product = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    amount_cents = serializers.IntegerField()
    currency = serializers.CharField()
    tokens = serializers.IntegerField()
    provider = serializers.CharField()
    provider_reference = serializers.CharField()
    performer = serializers.CharField(source="performer.username", default=None, allow_null=True)
    show = serializers.IntegerField(source="show_id", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class CheckoutInput(serializers.Serializer):
    product = serializers.ChoiceField(choices=["tokens", "ticket", "subscription", "private"])
    pack = serializers.CharField(required=False, default="")
    show = serializers.IntegerField(required=False, default=None)
    performer = serializers.CharField(required=False, default="")
    next = serializers.CharField(required=False, default="")
    provider = serializers.CharField(required=False, default="", help_text="default: the site's PAYMENT_PROVIDER")


class CheckoutOutput(serializers.Serializer):
    url = serializers.URLField(help_text="The provider's hosted payment page")
    purchase = PurchaseSerializer()


class WalletEntrySerializer(serializers.Serializer):
    tokens = serializers.IntegerField()
    kind = serializers.CharField()
    performer = serializers.CharField(allow_null=True)
    memo = serializers.CharField()
    created_at = serializers.DateTimeField()


class TokenPackSerializer(serializers.Serializer):
    id = serializers.CharField()
    tokens = serializers.IntegerField()
    price_cents = serializers.IntegerField()
    label = serializers.CharField()


class WalletSerializer(serializers.Serializer):
    balance_tokens = serializers.IntegerField()
    held_tokens = serializers.IntegerField(help_text="Reserved for private or group shows (not spendable)")
    available_tokens = serializers.IntegerField(help_text="Balance minus held: what can be spent now")
    history = WalletEntrySerializer(many=True)
    packs = TokenPackSerializer(many=True)


class CheckoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=CheckoutInput,
        responses={201: CheckoutOutput, **errors(402, 404, 409)},
        summary="Start a checkout; returns the hosted payment page's URL",
    )
    def post(self, request):
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            show, performer = checkout_target(values["product"], show_id=values["show"], username=values["performer"])
            viewer = access.Viewer.from_request(request)
            ask_to_buy(viewer, values["product"], show=show, performer=performer)
            purchase, url = services.start_checkout(
                user=request.user,
                location=viewer.location,
                product=values["product"],
                pack=values["pack"],
                show=show,
                performer=performer,
                return_url=values["next"]
                if values["next"].startswith("/") and not values["next"].startswith("//")
                else "",
                success_url_for=success_url_builder(request),
                provider=values["provider"],
                request=request,
            )
        except GatewayNotConfigured:
            raise ApiError("provider_unavailable", "This payment provider is not enabled.", 400)
        return Response(
            {"url": request.build_absolute_uri(url), "purchase": PurchaseSerializer(purchase).data}, status=201
        )


class WalletView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=WalletSerializer, summary="Token balance and wallet history")
    def get(self, request):
        history = [
            {
                "tokens": entry.amount,
                "kind": entry.transfer.kind,
                "performer": entry.transfer.performer.username if entry.transfer.performer else None,
                "memo": entry.transfer.memo,
                "created_at": entry.created_at,
            }
            for entry in ledger_selectors.wallet_history(request.user)
        ]
        tokens = ledger_selectors.wallet_tokens(request.user)
        return Response(
            {
                "balance_tokens": tokens.balance,
                "held_tokens": tokens.held,
                "available_tokens": tokens.available,
                "history": history,
                "packs": selectors.token_packs(),
            }
        )


class PurchaseListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PurchaseSerializer(many=True), summary="Your purchases")
    def get(self, request):
        return Response(PurchaseSerializer(selectors.purchases_for(request.user)[:200], many=True).data)


class PurchaseDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PurchaseSerializer, summary="One purchase (receipt)")
    def get(self, request, reference):
        purchase = selectors.access_purchase(request.user, reference)
        if purchase is None:
            raise ApiError("not_found", "No such purchase.", 404)
        return Response(PurchaseSerializer(purchase).data)


class SubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    performer = serializers.CharField(source="performer.username")
    status = serializers.CharField()
    price_cents = serializers.IntegerField()
    provider = serializers.CharField()
    current_period_end = serializers.DateTimeField()
    canceled_at = serializers.DateTimeField(allow_null=True)


class SubscriptionListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SubscriptionSerializer(many=True), summary="Your subscriptions")
    def get(self, request):
        return Response(SubscriptionSerializer(selectors.subscriptions_for(request.user), many=True).data)


class SubscriptionCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, **errors(409)},
        summary="Cancel (access until the period end)",
    )
    def post(self, request, pk):
        subscription = selectors.access_subscription(request.user, pk)
        if subscription is None:
            raise ApiError("not_found", "No such subscription.", 404)
        subscription = services.cancel_subscription(user=request.user, subscription=subscription, request=request)
        return Response(SubscriptionSerializer(subscription).data)


class TipInput(serializers.Serializer):
    tokens = serializers.IntegerField(min_value=1)
    message = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    idempotency_key = serializers.CharField(required=False, default="", max_length=100)


class TipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tokens = serializers.IntegerField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username")


class TipResultSerializer(TipSerializer):
    balance_tokens = serializers.IntegerField(help_text="Your wallet after the tip")


class RoomTipsView(APIView):
    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def _performer(self, request, username):
        performer = access.find_room(access.Viewer.from_request(request), username)
        if performer is None:
            raise ApiError("not_found", "This room does not exist.", 404)
        return performer

    @extend_schema(responses=TipSerializer(many=True), summary="Recent tips in a room")
    def get(self, request, username):
        return Response(TipSerializer(selectors.recent_tips(self._performer(request, username)), many=True).data)

    @extend_schema(
        request=TipInput,
        responses={201: TipResultSerializer, **errors(402, 409)},
        summary="Tip the performer (Idempotency-Key header)",
    )
    def post(self, request, username):
        performer = self._performer(request, username)
        data = TipInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = (
            request.headers.get("Idempotency-Key", "")[: settings.IDEMPOTENCY_KEY_MAX_CHARS]
            or data.validated_data["idempotency_key"]
        )
        if not key:
            raise ApiError("idempotency_key_required", "Send an Idempotency-Key header (any unique string per tip).")
        viewer = access.Viewer.from_request(request)
        ask_to_buy(viewer, "tip", performer=performer)
        tip = services.send_tip(
            user=request.user,
            performer=performer,
            tokens=data.validated_data["tokens"],
            message=data.validated_data["message"],
            idempotency_key=key,
            location=viewer.location,
            request=request,
        )
        body = TipSerializer(tip).data
        body["balance_tokens"] = ledger_selectors.wallet_balance(request.user)
        return Response(body, status=201)


class PayoutSerializer(serializers.Serializer):
    reference = serializers.UUIDField()
    amount_cents = serializers.IntegerField()
    status = serializers.CharField()
    rail = serializers.CharField()
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)


class PayoutInput(serializers.Serializer):
    amount_cents = serializers.IntegerField(min_value=1)


def _own_performer(request):
    performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
    if performer is None:
        raise ApiError("not_a_performer", "Only performers have earnings.", 403)
    return performer


class PayoutSettingsSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="one of the platform's payout methods (``methods``)")
    minimum_cents = serializers.IntegerField(help_text="no automatic payout below this")
    schedule = serializers.CharField(help_text="manual, weekly or monthly")
    methods = serializers.ListField(child=serializers.CharField(), read_only=True)


class PayoutSettingsInput(serializers.Serializer):
    # Types only: the limits are checked by billing.prices, the one place they live.
    method = serializers.CharField(required=False, max_length=20)
    minimum_cents = serializers.IntegerField(required=False)
    schedule = serializers.CharField(required=False, max_length=10)


def _settings_body(saved) -> dict:
    return {
        "method": saved.method,
        "minimum_cents": saved.minimum_cents,
        "schedule": saved.schedule,
        "methods": [method for method, _ in prices.payout_methods()],
    }


class PayoutSettingsView(APIView):
    """How and when you are paid; scheduled payouts use these settings."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PayoutSettingsSerializer, summary="Your payout settings")
    def get(self, request):
        return Response(_settings_body(selectors.payout_settings(_own_performer(request))))

    @extend_schema(
        request=PayoutSettingsInput,
        responses={200: PayoutSettingsSerializer, **errors(400)},
        summary="Change your payout settings (any of method, minimum_cents, schedule)",
    )
    def patch(self, request):
        current = selectors.payout_settings(_own_performer(request))
        data = PayoutSettingsInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = {
            "method": current.method,
            "minimum_cents": current.minimum_cents,
            "schedule": current.schedule,
            **data.validated_data,
        }
        saved = services.update_payout_settings(user=request.user, request=request, **values)
        return Response(_settings_body(saved))


class PayoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PayoutInput, responses={201: PayoutSerializer, **errors(409)}, summary="Request a payout (2FA required)"
    )
    def post(self, request):
        _own_performer(request)
        # Money leaves the platform: a stolen session or access token is not enough.
        require_recent_reauthentication(request)
        data = PayoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = services.request_payout(
            user=request.user, amount_cents=data.validated_data["amount_cents"], request=request
        )
        return Response(PayoutSerializer(payout).data, status=201)
