"""The one error type answers the same code, message and status on every surface."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from marquee.lib.errors import DomainError
from marquee.lib.middleware import DomainErrorMiddleware


class _Refusing(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        raise DomainError("sold_out", "No tickets left.", 409, show_id=7)


def test_api_answers_the_domain_errors_code_status_and_extra():
    response = _Refusing.as_view()(APIRequestFactory().get("/api/v1/x/"))
    assert response.status_code == 409
    assert response.data == {"error": {"code": "sold_out", "message": "No tickets left.", "show_id": 7}}


@pytest.mark.parametrize(("path", "json_expected"), [("/api/v1/x/", True), ("/rooms/x/", False)])
def test_pages_answer_the_domain_error_not_a_500(path, json_expected, db):
    middleware = DomainErrorMiddleware(lambda request: HttpResponse("unreached"))
    request = RequestFactory().get(path)
    response = middleware.process_exception(request, DomainError("gone", "That room closed.", 404))
    assert response.status_code == 404
    if json_expected:
        assert response["Content-Type"] == "application/json"
        assert b'"code": "gone"' in response.content
    else:
        assert b"That room closed." in response.content
    assert middleware.process_exception(request, ValueError("other")) is None


def _service_error_types():
    from marquee.billing.services import BillingError
    from marquee.chat.services import ChatError
    from marquee.compliance.services import ComplianceError
    from marquee.content.services import ContentError
    from marquee.content.uploads import UploadRefused
    from marquee.ledger.services import InsufficientFunds, LedgerError
    from marquee.lib.api_errors import ApiError
    from marquee.performers.services import ApplicationRefused, SettingsError
    from marquee.schedule.recurrence import ScheduleError

    return [
        BillingError,
        ChatError,
        ComplianceError,
        ContentError,
        UploadRefused,
        InsufficientFunds,
        LedgerError,
        ApiError,
        SettingsError,
        ApplicationRefused,
        ScheduleError,
    ]


@pytest.mark.parametrize("error_type", _service_error_types(), ids=lambda t: t.__name__)
def test_every_service_error_is_a_domain_error_code_first(error_type):
    error = error_type("sold_out", "No tickets left.", 409, show_id=7)
    assert isinstance(error, DomainError)
    assert (error.code, error.message, error.status) == ("sold_out", "No tickets left.", 409)
    assert error.as_json() == {"error": {"code": "sold_out", "message": "No tickets left.", "show_id": 7}}


def test_a_5xx_domain_error_stays_a_logged_server_error_not_an_answer(db):
    from marquee.ledger.services import LedgerError
    from marquee.lib.api_errors import exception_handler

    broken = LedgerError("ledger_invariant", "entries do not sum to zero", 500)
    assert exception_handler(broken, {}) is None  # DRF re-raises it: Django logs and answers its 500 page
    middleware = DomainErrorMiddleware(lambda request: HttpResponse("unreached"))
    assert middleware.process_exception(RequestFactory().get("/rooms/x/"), broken) is None


def test_service_refusal_answers_its_own_status_through_the_api(client, performer, viewer):
    """Translations per view are gone: the service's status reaches the client."""
    client.force_login(performer.user)
    first = client.post("/api/v1/dashboard/room/moderators/", {"username": "viewer"}, content_type="application/json")
    assert first.status_code == 201
    again = client.post("/api/v1/dashboard/room/moderators/", {"username": "viewer"}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"] == {"code": "duplicate", "message": "viewer is already a moderator."}
