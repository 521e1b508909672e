from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.access import selectors as entitlement
from marquee.chat import protocol, selectors
from marquee.compliance.middleware import passed_age_gate
from marquee.lib.api_errors import ApiError
from marquee.lib.converters import ID_MAX
from marquee.lib.geo import location_for_request


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    user = serializers.CharField()
    role = serializers.CharField()
    text = serializers.CharField()
    ts = serializers.DateTimeField()


class MessagesPageSerializer(serializers.Serializer):
    messages = ChatMessageSerializer(many=True)
    next_before = serializers.IntegerField(allow_null=True, help_text="Pass as ?before= for the older page")


class ModerationEntrySerializer(serializers.Serializer):
    action = serializers.CharField()
    actor = serializers.CharField()
    user = serializers.CharField(allow_null=True)
    details = serializers.DictField()
    at = serializers.DateTimeField()


class ModerationLogSerializer(serializers.Serializer):
    entries = ModerationEntrySerializer(many=True)


class HeldMessageSerializer(serializers.Serializer):
    held_id = serializers.IntegerField()
    user = serializers.CharField()
    text = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())
    ts = serializers.DateTimeField()


class HeldMessagesSerializer(serializers.Serializer):
    held = HeldMessageSerializer(many=True)


def _access(request, username):
    viewer = request.user if request.user.is_authenticated else None
    access = entitlement.chat(
        viewer=viewer,
        username=username,
        location=location_for_request(request),
        age_gate_passed=passed_age_gate(request),
    )
    if not access.decision:
        raise ApiError(access.decision.code, access.decision.message, access.decision.status)
    return access


def _int_param(request, name, default=None, *, minimum=1, maximum=None):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("invalid", f"{name} must be an integer.", 400)
    if value < minimum or (maximum is not None and value > maximum):
        raise ApiError("invalid", f"{name} is out of range.", 400)
    return value


class RoomMessagesView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("before", {"type": "integer", "minimum": 1, "maximum": ID_MAX}),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
        ],
        responses=MessagesPageSerializer,
        summary="Chat history of a room, newest page first (page back with ?before=<oldest id>)",
    )
    def get(self, request, username):
        access = _access(request, username)
        before = _int_param(request, "before", maximum=ID_MAX)
        limit = _int_param(request, "limit", 50, maximum=100)
        rows = selectors.visible_messages(username, before=before, limit=limit, audience=access.audience)
        messages = [protocol.message_from_row(row) for row in rows]
        return Response({"messages": messages, "next_before": messages[0]["id"] if len(messages) == limit else None})


def _moderator_access(request, username):
    access = _access(request, username)
    if not access.is_moderator:
        raise ApiError("forbidden", "Only the performer and the room's moderators can see this.", 403)
    return access


class ModerationLogView(APIView):
    @extend_schema(responses=ModerationLogSerializer, summary="The room's moderation log (moderators)")
    def get(self, request, username):
        access = _moderator_access(request, username)
        entries = [
            {
                "action": entry.action,
                "actor": entry.actor.username if entry.actor else "automod",
                "user": entry.target_user.username if entry.target_user else None,
                "details": entry.details,
                "at": entry.created_at.isoformat(),
            }
            for entry in selectors.moderation_log(access.performer)
        ]
        return Response({"entries": entries})


class HeldMessagesView(APIView):
    @extend_schema(responses=HeldMessagesSerializer, summary="Messages held for review (moderators)")
    def get(self, request, username):
        access = _moderator_access(request, username)
        held = [
            {"held_id": m.pk, "user": m.author_name, "text": m.text, "flags": m.flags, "ts": m.created_at.isoformat()}
            for m in selectors.held_messages(access.performer)
        ]
        return Response({"held": held})
