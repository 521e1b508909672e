from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.accounts import services
from marquee.accounts.selectors import has_two_factor


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    date_of_birth = serializers.DateField(allow_null=True)
    timezone = serializers.CharField()
    confirm_tips = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    is_performer = serializers.BooleanField()
    two_factor_enabled = serializers.BooleanField()


class MeUpdateSerializer(serializers.Serializer):
    timezone = serializers.CharField(
        max_length=64, required=False, help_text="IANA zone every time is shown in, e.g. Europe/Paris"
    )
    confirm_tips = serializers.BooleanField(required=False, help_text="Ask before a quick tip button spends tokens")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give timezone and/or confirm_tips.")
        return attrs


def _me(user) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "date_of_birth": user.date_of_birth,
        "timezone": user.timezone,
        "confirm_tips": user.confirm_tips,
        "is_staff": user.is_staff,
        "is_performer": hasattr(user, "performer"),
        "two_factor_enabled": has_two_factor(user),
    }


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The authenticated user")
    def get(self, request):
        return Response(MeSerializer(_me(request.user)).data)

    @extend_schema(
        request=MeUpdateSerializer, responses=MeSerializer, summary="Change your settings (time zone, tip confirmation)"
    )
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The zone is checked first: a bad one changes nothing at all.
        zone = data.validated_data.get("timezone")
        if zone is not None:
            zone = services.checked_timezone(zone)
        with transaction.atomic():
            if zone is not None:
                services.set_timezone(user=request.user, name=zone)
            if "confirm_tips" in data.validated_data:
                services.set_tip_confirmation(user=request.user, confirm=data.validated_data["confirm_tips"])
        return Response(MeSerializer(_me(request.user)).data)
