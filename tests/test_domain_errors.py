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
