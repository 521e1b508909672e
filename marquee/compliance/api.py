from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.compliance import selectors
from marquee.lib.api_errors import ApiError
from marquee.lib.api_schema import errors


class AgeVerificationStatusSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    status = serializers.CharField(allow_null=True)
    provider = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


class AgeVerificationStatusView(APIView):
    @extend_schema(responses=AgeVerificationStatusSerializer, summary="My age-verification status")
    def get(self, request):
        user = request.user
        latest = user.age_verifications.order_by("-created_at").first()
        data = {
            "verified": selectors.is_age_verified(user),
            "status": latest.status if latest else None,
            "provider": latest.provider if latest else None,
            "decided_at": latest.decided_at if latest else None,
        }
        return Response(AgeVerificationStatusSerializer(data).data)


class PerformerRecordStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    rejection_reason = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    reviewed_at = serializers.DateTimeField(allow_null=True)


class PerformerRecordStatusView(APIView):
    @extend_schema(
        responses={200: PerformerRecordStatusSerializer, **errors(404)}, summary="My performer identity record status"
    )
    def get(self, request):
        performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
        record = selectors.performer_record(performer) if performer else None
        if record is None:
            raise ApiError("not_found", "You have no identity record.", 404)
        return Response(PerformerRecordStatusSerializer(record).data)
