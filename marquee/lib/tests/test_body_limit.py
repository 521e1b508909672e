"""Bodies over a path's limit are refused before Django reads (spools) them,
through the project's real ASGI application (what uvicorn runs)."""

import asyncio
import json

import pytest
from django.conf import settings

from marquee.asgi import application
from marquee.lib.body_limit import body_limit_for

CHUNK = 256 * 1024


def call(path, chunks, *, content_length=None, method="POST"):
    """Drive the ASGI app like a server: returns (status, body, bytes the app pulled)."""
    headers = [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=x")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending = list(chunks)
    pulled = 0
    sent = []

    async def receive():
        nonlocal pulled
        if not pending:  # body sent: the client waits for the answer
            await asyncio.sleep(3600)
        body = pending.pop(0)
        pulled += len(body)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, pulled


@pytest.mark.django_db(transaction=True)
def test_chunked_body_over_the_limit_is_cut_off_while_it_streams():
    limit = settings.MAX_REQUEST_BODY_BYTES
    chunks = [b"x" * CHUNK] * (limit // CHUNK + 40)  # ~10 MB more than allowed, no Content-Length
    status, body, pulled = call("/accounts/login/", chunks)
    assert status == 413
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    # Django stopped at the first chunk past the limit instead of spooling the rest.
    assert pulled <= limit + CHUNK
    assert pulled < sum(map(len, chunks))


@pytest.mark.django_db(transaction=True)
def test_declared_length_over_the_limit_is_refused_before_reading():
    limit = settings.MAX_REQUEST_BODY_BYTES
    status, body, pulled = call("/accounts/login/", [b"x" * CHUNK], content_length=limit + 1)
    assert (status, pulled) == (413, 0)
    assert json.loads(body)["error"]["code"] == "payload_too_large"


def test_invalid_content_length_is_a_400():
    status, body, pulled = call("/accounts/login/", [b""], content_length="12abc")
    assert (status, pulled) == (400, 0)
    assert json.loads(body)["error"]["code"] == "bad_request"


@pytest.mark.django_db(transaction=True)
def test_a_body_within_the_limit_reaches_django():
    # The anonymous login form without a CSRF token: Django's own 403, not ours.
    status, body, pulled = call("/accounts/login/", [b"a=b"], content_length=3)
    assert status == 403 and pulled == 3
    assert b"payload_too_large" not in body


def test_upload_paths_take_what_they_accept_and_others_do_not():
    video = settings.CONTENT_MAX_VIDEO_BYTES
    assert body_limit_for("/dashboard/content/sets/7/upload/") > video
    assert body_limit_for("/api/v1/dashboard/content/sets/7/items/") > video
    assert body_limit_for("/verify-age/") > 3 * settings.RECORDS_MAX_UPLOAD_BYTES
    assert body_limit_for("/api/v1/tips/") == settings.MAX_REQUEST_BODY_BYTES < video
    assert body_limit_for("/accounts/login/") < settings.RECORDS_MAX_UPLOAD_BYTES
