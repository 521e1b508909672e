"""JSON API of private, exclusive, spy and group shows (DESIGN's public
interfaces).  Thin: each view asks ``access`` (may this viewer buy here at
all), then one service; refusals are ``DomainError``s answered as 4xx JSON."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.access import selectors as access
from marquee.lib.api_errors import ApiError
from marquee.lib.api_schema import errors
from marquee.performers.models import Performer
from marquee.privates import selectors, services
from marquee.privates.models import GroupShow, PrivateShow

# --- serializers ------------------------------------------------------------------


class PrivateRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["private", "exclusive", "spy"], default="private")


class PrivateRequestResult(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PrivateShow.Status.choices)
    hold_tokens = serializers.IntegerField()
    rate_tokens = serializers.IntegerField()


class PrivateShowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=PrivateShow.Kind.choices)
    status = serializers.ChoiceField(choices=PrivateShow.Status.choices)
    periods_billed = serializers.IntegerField()
    tokens_charged = serializers.IntegerField()
    hold_tokens = serializers.IntegerField()
    rate_tokens = serializers.IntegerField()
    end_reason = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)


class PendingRequestSerializer(PrivateShowSerializer):
    viewer = serializers.CharField()
    member_since = serializers.DateTimeField()


class RoomPrivateSettingsSerializer(serializers.Serializer):
    """Ranges are the platform's (``billing.prices``); the API types only."""

    privates_enabled = serializers.BooleanField(required=False)
    rate_tokens = serializers.IntegerField(required=False)
    minimum_minutes = serializers.IntegerField(required=False)
    exclusive_enabled = serializers.BooleanField(required=False)
    exclusive_rate_tokens = serializers.IntegerField(required=False)
    spies_enabled = serializers.BooleanField(required=False)
    spy_rate_tokens = serializers.IntegerField(required=False)
    group_shows_enabled = serializers.BooleanField(required=False)
    cam2cam_enabled = serializers.BooleanField(required=False)
    recordings_enabled = serializers.BooleanField(required=False)


class GroupShowInput(serializers.Serializer):
    rate_tokens = serializers.IntegerField()
    goal_viewers = serializers.IntegerField()
    window_minutes = serializers.IntegerField()


class GroupShowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=GroupShow.Status.choices)
    rate_tokens = serializers.IntegerField()
    goal_viewers = serializers.IntegerField()
    pledges = serializers.IntegerField()
    deadline = serializers.DateTimeField()


def session_data(session: PrivateShow) -> dict:
    return {
        "id": session.pk,
        "kind": session.kind,
        "status": session.status,
        "periods_billed": session.periods_charged,
        "tokens_charged": session.periods_charged * session.rate_tokens,
        "hold_tokens": selectors.held_now(session),
        "rate_tokens": session.rate_tokens,
        "end_reason": session.end_reason,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
    }


def group_data(group: GroupShow) -> dict:
    return {
        "id": group.pk,
        "status": group.status,
        "rate_tokens": group.rate_tokens,
        "goal_viewers": group.goal_viewers,
        "pledges": selectors.pledge_count(group),
        "deadline": group.deadline,
    }


# --- helpers ------------------------------------------------------------------------


def _may_buy_in(request, performer) -> None:
    """The entitlement module's answer first: may this viewer pay in this room."""
    access.require(access.buy_private(access.Viewer.from_request(request), performer))


def _own_performer(request) -> Performer:
    performer = Performer.objects.filter(user=request.user).first()
    if performer is None:
        raise ApiError("not_a_performer", "The dashboard API is for performers.", 403)
    return performer


def _session(pk: int) -> PrivateShow:
    session = selectors.session(pk)
    if session is None:
        raise ApiError("not_found", "No such show.", 404)
    return session


# --- viewers ------------------------------------------------------------------------


class RoomPrivateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PrivateRequestInput,
        responses={201: PrivateRequestResult, **errors(402, 404, 409)},
        summary="Request a private or exclusive show, or spy on the running private (a hold is placed at once)",
    )
    def post(self, request, username):
        viewer = access.Viewer.from_request(request)
        performer = access.find_room(viewer, username)
        if performer is None:
            raise ApiError("not_found", "This room does not exist.", 404)
        data = PrivateRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        _may_buy_in(request, performer)
        session = services.request_private(
            user=request.user, performer=performer, kind=data.validated_data["kind"], request=request
        )
        body = {
            "id": session.pk,
            "status": session.status,
            "hold_tokens": selectors.held_now(session),
            "rate_tokens": session.rate_tokens,
        }
        return Response(body, status=201)


class PrivateShowView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: PrivateShowSerializer, **errors(404)}, summary="A private session (payer or performer)"
    )
    def get(self, request, pk):
        session = _session(pk)
        if request.user.pk not in (session.payer_id, session.performer.user_id):
            raise ApiError("not_found", "No such show.", 404)
        return Response(session_data(session))


class PrivateEndView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={200: PrivateShowSerializer, **errors(404)}, summary="End a private (either side)"
    )
    def post(self, request, pk):
        session = services.end_private(actor=request.user, session=_session(pk), request=request)
        return Response(session_data(selectors.session(session.pk)))


class GroupJoinView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={201: PrivateRequestResult, **errors(402, 404, 409)},
        summary="Join a group show (one period is held)",
    )
    def post(self, request, pk):
        group = selectors.group_show(pk)
        viewer = access.Viewer.from_request(request)
        if group is None or not access.view_performer(viewer, group.performer):
            raise ApiError("not_found", "No such group show.", 404)
        _may_buy_in(request, group.performer)
        pledge = services.join_group_show(user=request.user, group=group, request=request)
        body = {
            "id": pledge.pk,
            "status": pledge.status,
            "hold_tokens": selectors.held_now(pledge),
            "rate_tokens": pledge.rate_tokens,
        }
        return Response(body, status=201)


# --- the performer's dashboard ------------------------------------------------------


class PrivateAnswerView(APIView):
    permission_classes = [IsAuthenticated]
    answer = "accept"

    @extend_schema(
        request=None,
        responses={200: PrivateShowSerializer, **errors(404, 409)},
        summary="Accept or decline a private request (the performer)",
    )
    def post(self, request, pk):
        session = _session(pk)
        service = services.accept if self.answer == "accept" else services.decline
        session = service(actor=request.user, session=session, request=request)
        return Response(session_data(selectors.session(session.pk)))


class PrivateSettingsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: RoomPrivateSettingsSerializer}, summary="The room's private-show settings")
    def get(self, request):
        return Response(RoomPrivateSettingsSerializer(selectors.room_settings(_own_performer(request))).data)

    @extend_schema(
        request=RoomPrivateSettingsSerializer,
        responses={200: RoomPrivateSettingsSerializer},
        summary="Change the room's private-show settings (limits in billing.prices)",
    )
    def patch(self, request):
        performer = _own_performer(request)
        data = RoomPrivateSettingsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.update_room_settings(
            actor=request.user, performer=performer, request=request, **data.validated_data
        )
        return Response(RoomPrivateSettingsSerializer(room).data)


class GroupShowsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=GroupShowInput,
        responses={201: GroupShowSerializer, **errors(409)},
        summary="Announce a group show (starts when the goal joins in time)",
    )
    def post(self, request):
        performer = _own_performer(request)
        data = GroupShowInput(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.announce_group_show(
            actor=request.user, performer=performer, request=request, **data.validated_data
        )
        return Response(group_data(group), status=201)


class PrivateRequestsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: PendingRequestSerializer(many=True)}, summary="Private requests waiting for an answer"
    )
    def get(self, request):
        performer = _own_performer(request)
        return Response(
            [
                {**session_data(s), "viewer": s.payer.username, "member_since": s.payer.date_joined}
                for s in selectors.pending_requests(performer)
            ]
        )
