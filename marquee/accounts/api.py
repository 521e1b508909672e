from __future__ import annotations

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
    is_staff = serializers.BooleanField()
    is_performer = serializers.BooleanField()
    two_factor_enabled = serializers.BooleanField()


class MeUpdateSerializer(serializers.Serializer):
    timezone = serializers.CharField(max_length=64, help_text="IANA zone every time is shown in, e.g. Europe/Paris")


def _me(user) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "date_of_birth": user.date_of_birth,
        "timezone": user.timezone,
        "is_staff": user.is_staff,
        "is_performer": hasattr(user, "performer"),
        "two_factor_enabled": has_two_factor(user),
    }


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The authenticated user")
    def get(self, request):
        return Response(MeSerializer(_me(request.user)).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer, summary="Change your settings (time zone)")
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_timezone(user=request.user, name=data.validated_data["timezone"])
        return Response(MeSerializer(_me(request.user)).data)
