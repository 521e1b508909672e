"""The HTTP side of WHIP/WHEP (RFC 9725 and its WHEP sibling), shared by
"go live from the browser" (``whip_api``) and the private shows' WebRTC
(``privates.webrtc_api``): the SDP body, the 201 answer with the resource's
``Location``, relay errors as API errors, and DELETE of the resource."""

from __future__ import annotations

from django.http import HttpResponse
from rest_framework.parsers import BaseParser

from marquee.lib.api_errors import ApiError
from marquee.shows.whip_relay import RelayError

SDP_TYPE = "application/sdp"
MAX_OFFER_BYTES = 64 * 1024
# What the client got wrong; any other relay refusal is the show's state (409).
_BAD_OFFER_CODES = frozenset({"bad_offer", "no_video"})


class SdpParser(BaseParser):
    media_type = SDP_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(MAX_OFFER_BYTES + 1)


def require_sdp(request) -> None:
    if request.content_type.split(";")[0].strip().lower() != SDP_TYPE:
        raise ApiError("unsupported_media_type", "Send the offer as application/sdp.", 415)


def offer_text(request) -> str:
    """The SDP offer of a request already checked by ``require_sdp``."""
    offer = request.data
    if not offer or len(offer) > MAX_OFFER_BYTES:
        raise ApiError("bad_offer", "The SDP offer is empty or too large.", 400)
    return offer.decode("utf-8", "replace")


def relay_refused(exc: RelayError) -> ApiError:
    return ApiError(exc.code, exc.message, 400 if exc.code in _BAD_OFFER_CODES else 409)


def answer_response(answer: str, location: str) -> HttpResponse:
    """201 with the SDP answer; ``location`` is the resource DELETE ends."""
    response = HttpResponse(answer, status=201, content_type=SDP_TYPE)
    response["Location"] = location
    response["Cache-Control"] = "no-store"
    return response


def end_resource(resource, *, owned: bool, close, message: str) -> HttpResponse:
    """DELETE of a WHIP/WHEP resource: someone else's is as unknown as a missing one."""
    if resource is None or not owned:
        raise ApiError("not_found", message, 404)
    close()
    return HttpResponse(status=200)
