from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.access import selectors as access
from marquee.lib.api_errors import ApiError
from marquee.performers import services as performer_services
from marquee.shows import services


class RoomShowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    price_cents = serializers.IntegerField()


class RoomDeniedSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PaywallSerializer(serializers.Serializer):
    """What to buy to watch: a ticket (``show_id``), a subscription (``performer``) or a private show."""

    product = serializers.CharField()
    show_id = serializers.IntegerField(required=False)
    performer = serializers.CharField(required=False)
    price_cents = serializers.IntegerField()
    price_display = serializers.CharField()
    message = serializers.CharField()
    title = serializers.CharField(help_text="the show's title")
    started_at = serializers.DateTimeField(allow_null=True, help_text="when the show started (or is scheduled)")
    gives = serializers.CharField(help_text="what the purchase gives, in a sentence")


class RoomPrivateSerializer(serializers.Serializer):
    """The room is in a private show (``access.private_state``)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    spies_allowed = serializers.BooleanField()
    session_id = serializers.IntegerField(allow_null=True, help_text="Your own session in it (payer or spy)")
    watching = serializers.BooleanField(help_text="You may watch it (performer, payer or spy)")
    is_payer = serializers.BooleanField()
    webrtc_url = serializers.CharField(allow_null=True, help_text="WHEP endpoint (payer and performer; else HLS only)")
    cam2cam_url = serializers.CharField(
        allow_null=True, help_text="cam2cam: the payer's WHIP endpoint, or the performer's WHEP view of it"
    )


RoomStateSerializer = inline_serializer(
    "RoomState",
    {
        "username": serializers.CharField(),
        "is_live": serializers.BooleanField(),
        "show": RoomShowSerializer(allow_null=True),
        "playback_url": serializers.CharField(allow_null=True),
        "playback_expires_at": serializers.IntegerField(allow_null=True),
        "paywall": PaywallSerializer(allow_null=True),
        "denied": RoomDeniedSerializer(allow_null=True),
        "private": RoomPrivateSerializer(allow_null=True),
    },
)

StreamKeySerializer = inline_serializer(
    "StreamKey",
    {
        "server": serializers.CharField(),
        "stream_key": serializers.CharField(allow_null=True),
        "rotated_at": serializers.DateTimeField(allow_null=True),
    },
)


class RoomView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=RoomStateSerializer, summary="Room state: live show, signed playback URL or paywall")
    def get(self, request, username):
        viewer = access.Viewer.from_request(request)
        performer = access.find_room(viewer, username)
        if performer is None:
            raise ApiError("not_found", "This room does not exist.", 404)
        state = access.room_state(viewer, performer)
        if state.get("playback_url"):
            services.record_watch_heartbeat(user=request.user, performer=performer)
        response = Response(state)
        # Signed per viewer: never cached by anyone else.
        response["Cache-Control"] = "private, no-store"
        return response


def _own_performer(request):
    performer = getattr(request.user, "performer", None)
    if performer is None:
        raise ApiError("not_a_performer", "Only performers have a stream key.", 403)
    return performer


class StreamKeyView(APIView):
    @extend_schema(responses=StreamKeySerializer, summary="OBS server address (the key itself is never shown again)")
    def get(self, request):
        performer = _own_performer(request)
        return Response(
            {
                "server": settings.MEDIA_RTMP_PUBLIC_URL,
                "stream_key": None,
                "rotated_at": performer.stream_key_rotated_at,
            }
        )

    @extend_schema(request=None, responses={201: StreamKeySerializer}, summary="Regenerate the stream key (shown once)")
    def post(self, request):
        performer = _own_performer(request)
        secret = performer_services.regenerate_stream_key(performer=performer, actor=request.user, request=request)
        performer.refresh_from_db(fields=["stream_key_rotated_at"])
        response = Response(
            {
                "server": settings.MEDIA_RTMP_PUBLIC_URL,
                "stream_key": f"{performer.username}?key={secret}",
                "rotated_at": performer.stream_key_rotated_at,
            },
            status=201,
        )
        response["Cache-Control"] = "no-store"
        return response
