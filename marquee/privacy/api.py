"""JSON API of the privacy capability (``/api/v1/me/...``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.accounts.selectors import require_recent_reauthentication
from marquee.lib.api_schema import errors
from marquee.privacy import selectors, services


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
