"""WebRTC in private shows (issue 16): WHEP for the payer and the
performer's preview, cam2cam (the payer's camera by WHIP, the performer's
view of it by WHEP).  POST an SDP offer → 201 with the SDP answer and a
``Location`` that DELETE ends.  Each POST asks ``access`` first (a refusal
creates nothing); ``shows.webrtc_egress`` only moves frames."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from marquee.access import selectors as access
from marquee.lib.api_errors import ApiError
from marquee.privates import selectors
from marquee.shows.webrtc_egress import CAMERA_IN, CAMERA_OUT, WATCH, egress
from marquee.shows.webrtc_http import (
    SDP_TYPE,
    SdpParser,
    answer_response,
    end_resource,
    offer_text,
    relay_refused,
    require_sdp,
)
from marquee.shows.whip_relay import RelayError

_RESPONSES = {
    201: OpenApiResponse(description="SDP answer; Location ends the peer"),
    400: OpenApiResponse(description="bad_offer / no_video"),
    403: OpenApiResponse(description="not_in_show / not_payer / not_performer / cam2cam_off"),
    404: OpenApiResponse(description="not_found"),
    409: OpenApiResponse(description="not_live / not_running / no_camera / camera_busy / no_stream"),
    415: OpenApiResponse(description="unsupported_media_type"),
    503: OpenApiResponse(description="media_busy"),
}


def _decide(role: str, viewer, session):
    if role == WATCH:
        return access.private_webrtc(viewer, session)
    return access.cam2cam(viewer, session, send=role == CAMERA_IN)


class _OfferView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [SdpParser]
    role = WATCH

    def post(self, request, pk):
        session = selectors.session(pk)
        if session is None:
            raise ApiError("not_found", "No such show.", 404)
        viewer = access.Viewer.from_request(request)
        access.require(_decide(self.role, viewer, session))
        require_sdp(request)
        sdp = offer_text(request)
        if len(egress.peers) >= settings.MEDIA_WEBRTC_MAX_PEERS:
            raise ApiError("media_busy", "Too many WebRTC viewers on this server; use HLS.", 503)

        def still_allowed() -> bool:
            # The same rule again, on fresh rows: an end or ban elsewhere closes the peer.
            current = selectors.session(pk)
            return current is not None and bool(_decide(self.role, viewer, current))

        common = {"offer_sdp": sdp, "user_id": request.user.pk, "tag": session.pk, "recheck": still_allowed}
        try:
            if self.role == WATCH:
                performer = session.performer
                peer_id, answer = egress.watch(**common, stream=performer.username, performer_user_id=performer.user_id)
            elif self.role == CAMERA_IN:
                peer_id, answer = egress.receive_camera(**common)
            else:
                peer_id, answer = egress.send_camera(**common)
        except RelayError as exc:
            raise relay_refused(exc) from None
        return answer_response(answer, reverse("api_private_webrtc_peer", args=[session.pk, peer_id]))


class WhepView(_OfferView):
    role = WATCH

    @extend_schema(
        request={SDP_TYPE: str}, responses=_RESPONSES, summary="Watch a private show over WebRTC (WHEP offer)"
    )
    def post(self, request, pk):
        return super().post(request, pk)


class Cam2CamView(_OfferView):
    role = CAMERA_IN

    @extend_schema(
        request={SDP_TYPE: str}, responses=_RESPONSES, summary="cam2cam: the payer sends their camera (WHIP offer)"
    )
    def post(self, request, pk):
        return super().post(request, pk)


class Cam2CamWhepView(_OfferView):
    role = CAMERA_OUT

    @extend_schema(
        request={SDP_TYPE: str}, responses=_RESPONSES, summary="cam2cam: the performer sees the payer (WHEP offer)"
    )
    def post(self, request, pk):
        return super().post(request, pk)


class PeerView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: None, 404: OpenApiResponse()}, summary="End a WebRTC peer")
    def delete(self, request, pk, peer_id):
        peer = egress.peers.get(peer_id)
        return end_resource(
            peer,
            owned=peer is not None and peer.user_id == request.user.pk and peer.tag == pk,
            close=lambda: egress.close(peer_id),
            message="No such WebRTC session.",
        )
