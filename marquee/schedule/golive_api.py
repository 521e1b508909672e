"""JSON API of go-live notifications: per-follow opt-ins, Web Push
subscriptions and the VAPID key browsers subscribe with."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.lib.api_schema import errors
from marquee.lib.errors import DomainError
from marquee.performers.models import Follow
from marquee.schedule import golive


class FollowNotificationsSerializer(serializers.Serializer):
    app = serializers.BooleanField(help_text="In-app notification when this performer goes live")
    email = serializers.BooleanField(help_text="E-mail when this performer goes live")
    push = serializers.BooleanField(help_text="Web Push to your subscribed devices")


def _state(follow: Follow) -> dict:
    return {"app": follow.notify_app, "email": follow.notify_email, "push": follow.notify_push}


class FollowNotificationsView(APIView):
    permission_classes = [IsAuthenticated]

    def _follow(self, request, username) -> Follow:
        follow = Follow.objects.filter(user=request.user, performer__user__username=username).first()
        if follow is None:
            raise DomainError("not_following", "You do not follow this performer.", 404)
        return follow

    @extend_schema(responses={200: FollowNotificationsSerializer, **errors(404)}, summary="Go-live opt-ins of a follow")
    def get(self, request, username):
        return Response(_state(self._follow(request, username)))

    @extend_schema(
        request=FollowNotificationsSerializer,
        responses={200: FollowNotificationsSerializer, **errors(400, 404)},
        summary="Choose how this performer's go-live reaches you",
    )
    def put(self, request, username):
        data = FollowNotificationsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        follow = self._follow(request, username)
        follow = golive.set_follow_notifications(user=request.user, performer=follow.performer, **data.validated_data)
        return Response(_state(follow))


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=120)
    auth = serializers.CharField(max_length=60)


class PushSubscriptionInput(serializers.Serializer):
    endpoint = serializers.URLField(max_length=800)
    keys = PushKeysSerializer()
    show_names = serializers.BooleanField(
        default=False, help_text="Let this device's notifications name the performer (off: neutral text)"
    )


class PushEndpointInput(serializers.Serializer):
    endpoint = serializers.URLField(max_length=800)


class PushSubscriptionsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PushSubscriptionInput,
        responses={201: None, **errors(400)},
        summary="Register this browser's Web Push subscription (PushSubscription.toJSON())",
    )
    def post(self, request):
        data = PushSubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        golive.subscribe_push(
            user=request.user,
            endpoint=values["endpoint"],
            p256dh=values["keys"]["p256dh"],
            auth=values["keys"]["auth"],
            show_names=values["show_names"],
            request=request,
        )
        return Response({"subscribed": True, "show_names": values["show_names"]}, status=201)

    @extend_schema(request=PushEndpointInput, responses={200: None}, summary="Remove a Web Push subscription")
    def delete(self, request):
        data = PushEndpointInput(data=request.data)
        data.is_valid(raise_exception=True)
        removed = golive.unsubscribe_push(user=request.user, endpoint=data.validated_data["endpoint"])
        return Response({"removed": removed})


class PushKeyView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: None}, summary="The VAPID public key (empty when push is off)")
    def get(self, request):
        return Response({"public_key": golive.vapid_public_key()})
