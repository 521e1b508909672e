"""Malformed and oversized bodies on the machine APIs: a JSON 4xx, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/_allauth/app/v1/auth/login"),
    ("post", "/_allauth/app/v1/auth/signup"),
    ("post", "/_allauth/app/v1/tokens/refresh"),
    ("post", "/_allauth/browser/v1/auth/login"),
    ("post", "/api/v1/me/performer/"),
]
MALFORMED = [b"{not json", b"\xff\xfe\x00", b'{"email": "a@b.c",', b"[1, 2]", b'"just a string"']


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_json_is_a_json_400(client, viewer, method, path, body):
    if path.startswith("/api/"):
        client.force_login(viewer)
    response = client.generic(method.upper(), path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    data = response.json()
    if path.startswith("/_allauth/"):
        assert data["status"] == 400
        assert data["errors"][0]["code"] == "invalid_json"
    else:
        assert data["error"]["code"] in {"invalid_json", "invalid"}
        assert data["error"]["message"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_oversized_body_is_a_json_413(client, viewer, settings, method, path):
    if path.startswith("/api/"):
        client.force_login(viewer)
    body = b'{"display_name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    response = client.generic(method.upper(), path, body, content_type="application/json")
    assert response.status_code == 413
    payload = response.json()
    code = payload["errors"][0]["code"] if path.startswith("/_allauth/") else payload["error"]["code"]
    assert code == "payload_too_large"


def test_api_errors_have_one_shape(client):
    response = client.get("/api/v1/performers/nobody-here/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_oversized_form_body_on_the_api_is_a_json_4xx(client, viewer, settings):
    client.force_login(viewer)
    body = "display_name=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = client.generic("POST", "/api/v1/me/performer/", body, content_type="application/x-www-form-urlencoded")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_openapi_schema_is_valid_and_lists_the_account_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)  # raises on an invalid OpenAPI document
    assert {"/api/v1/me/", "/api/v1/me/performer/", "/api/v1/performers/"} <= set(schema["paths"])
    assert client.get("/api/docs/").status_code == 200
