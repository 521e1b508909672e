"""WHIP endpoint (RFC 9725) for "Go live from this browser": POST an SDP
offer → 201 with the SDP answer and a ``Location`` for the session; DELETE
that Location ends it.  Session (with CSRF) or JWT, like the rest of the API;
the same go-live checks as the RTMP publish hook answer up front, and the
hook checks again when the relay publishes (one path)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from marquee.lib.api_errors import ApiError
from marquee.shows import ingest_credentials, services
from marquee.shows.webrtc_http import (
    SDP_TYPE,
    SdpParser,
    answer_response,
    end_resource,
    offer_text,
    relay_refused,
    require_sdp,
)
from marquee.shows.whip_relay import RelayError, relay


def _performer(request):
    performer = getattr(request.user, "performer", None)
    if performer is None:
        raise ApiError("not_a_performer", "Only performers can go live.", 403)
    return performer


class WhipView(APIView):
    parser_classes = [SdpParser]

    @extend_schema(
        request={SDP_TYPE: str},
        responses={
            201: OpenApiResponse(description="SDP answer; Location is the session"),
            400: OpenApiResponse(description="bad_offer / no_video"),
            403: OpenApiResponse(description="not_a_performer or a go-live check (suspended, not_verified…)"),
            409: OpenApiResponse(description="already_live"),
            415: OpenApiResponse(description="unsupported_media_type"),
            503: OpenApiResponse(description="media_busy"),
        },
        summary="Go live from the browser: WHIP offer (RFC 9725)",
    )
    def post(self, request):
        performer = _performer(request)
        require_sdp(request)
        allowed = services.can_go_live(performer)
        if not allowed:
            raise ApiError(allowed.code, allowed.message, allowed.status)
        if relay.session_of(request.user.pk) is not None:
            raise ApiError("already_live", "This browser session is already publishing.", 409)
        if len(relay.sessions) >= settings.MEDIA_WHIP_MAX_SESSIONS:
            raise ApiError("media_busy", "Too many browser broadcasts on this server; try again later.", 503)
        offer = offer_text(request)
        credential = ingest_credentials.mint(performer)
        ingest_url = f"{settings.MEDIA_WHIP_INGEST_URL}/{performer.username}?key={credential}"
        try:
            session_id, answer = relay.open(offer_sdp=offer, user_id=request.user.pk, ingest_url=ingest_url)
        except RelayError as exc:
            raise relay_refused(exc) from None
        return answer_response(answer, reverse("api_whip_session", args=[session_id]))


class WhipSessionView(APIView):
    @extend_schema(request=None, responses={200: None}, summary="End a WHIP session (the show ends)")
    def delete(self, request, session_id):
        session = relay.sessions.get(session_id)
        return end_resource(
            session,
            owned=session is not None and session.user_id == request.user.pk,
            close=lambda: relay.close(session_id),
            message="No such WHIP session.",
        )
