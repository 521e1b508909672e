from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

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


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The authenticated user")
    def get(self, request):
        user = request.user
        data = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "date_of_birth": user.date_of_birth,
            "timezone": user.timezone,
            "is_staff": user.is_staff,
            "is_performer": hasattr(user, "performer"),
            "two_factor_enabled": has_two_factor(user),
        }
        return Response(MeSerializer(data).data)
