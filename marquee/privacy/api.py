"""JSON API of the privacy capability (``/api/v1/me/...``)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.accounts.selectors import require_recent_reauthentication
from marquee.lib.api_schema import errors
from marquee.performers.dashboard_access import IsPerformer
from marquee.privacy import reopen, selectors, services, travel


class ClosureSummarySerializer(serializers.Serializer):
    grace_days = serializers.IntegerField(help_text="Days during which the closure can be undone")
    tokens_forfeited = serializers.IntegerField(help_text="Unspent tokens written off on closure")
    is_performer = serializers.BooleanField()
    earnings_cents = serializers.DictField(child=serializers.IntegerField(), help_text="Must all be 0 to close")


class ClosureSerializer(serializers.Serializer):
    status = serializers.CharField()
    closed_at = serializers.DateTimeField()
    final_after = serializers.DateTimeField()
    tokens_forfeited = serializers.IntegerField()


class CloseAccountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ClosureSummarySerializer, summary="What closing your account would do")
    def get(self, request):
        return Response(ClosureSummarySerializer(selectors.closure_summary(request.user)).data)

    @extend_schema(
        request=None,
        responses={200: ClosureSerializer, **errors(409)},
        summary="Close your account (recent reauthentication required)",
    )
    def post(self, request):
        # Irreversible after the grace period: a stolen token is not enough.
        require_recent_reauthentication(request)
        closure = services.close_account(user=request.user, request=request)
        return Response(ClosureSerializer(closure).data)


class ReopenInput(serializers.Serializer):
    email = serializers.EmailField()
    code = serializers.CharField(max_length=12, required=False, help_text="The code mailed by the first call")


class ReopenAccountView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=ReopenInput,
        responses={202: None, 200: None, **errors(400)},
        summary="Reopen a closed account: without `code` mails one; with it reopens",
    )
    def post(self, request):
        data = ReopenInput(data=request.data)
        data.is_valid(raise_exception=True)
        email, code = data.validated_data["email"], data.validated_data.get("code")
        if not code:
            reopen.start(email=email)  # the same answer whether or not the account exists
            return Response({"status": "code_sent_if_closed"}, status=202)
        reopen.confirm(email=email, code=code)
        return Response({"status": "reopened", "set_password_url": reverse("account_reset_password")})


class DataExportSerializer(serializers.Serializer):
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, export) -> str | None:
        if export.status != "ready":
            return None
        return reverse("privacy_export_download", args=[services.export_token(export)])


class DataExportView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: DataExportSerializer, **errors(404)}, summary="Your latest data archive")
    def get(self, request):
        export = selectors.latest_export(request.user)
        if export is None:
            raise services.PrivacyError("export_not_found", "You have not asked for your data yet.", 404)
        return Response(DataExportSerializer(export).data)

    @extend_schema(request=None, responses={202: DataExportSerializer}, summary="Prepare an archive of your data")
    def post(self, request):
        export = services.request_export(user=request.user, request=request)
        return Response(DataExportSerializer(export).data, status=202)


class DetectedLocationSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=["login", "ingest"])
    country = serializers.CharField()
    region = serializers.CharField()


class TravelModeSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    blocked_countries = serializers.ListField(child=serializers.CharField(), help_text="Blocked by travel mode")
    detected = DetectedLocationSerializer(many=True, help_text="Where you are now (login and ingest address)")
    would_block = serializers.ListField(child=serializers.CharField(), help_text="What turning it on blocks now")


class TravelModeInput(serializers.Serializer):
    confirm = serializers.ListField(
        child=serializers.CharField(max_length=2), help_text="The `would_block` countries you were shown"
    )


def _travel_state(request) -> dict:
    return travel.state(performer=request.performer, request=request)


class TravelModeView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses=TravelModeSerializer, summary="Travel mode: state and where you are now")
    def get(self, request):
        return Response(TravelModeSerializer(_travel_state(request)).data)

    @extend_schema(
        request=TravelModeInput,
        responses={200: TravelModeSerializer, **errors(409)},
        summary="Turn travel mode on: hide your room where you are now",
    )
    def post(self, request):
        data = TravelModeInput(data=request.data)
        data.is_valid(raise_exception=True)
        travel.enable(performer=request.performer, request=request, confirmed=data.validated_data["confirm"])
        return Response(TravelModeSerializer(_travel_state(request)).data)

    @extend_schema(responses={200: TravelModeSerializer}, summary="Turn travel mode off")
    def delete(self, request):
        travel.disable(performer=request.performer, request=request)
        return Response(TravelModeSerializer(_travel_state(request)).data)
