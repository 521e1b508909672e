"""Property-based run of the whole JSON API from its OpenAPI schema: no
request may produce a 5xx, anonymous or authenticated as a viewer (session
cookie).  Full response conformance per role: test_schema_roles.py."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings

from tests.factories import PerformerFactory, UserFactory


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Like Django's test client: the WSGI handler must not close the test's
    connection (it is inside the test transaction) at request end."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def viewer_cookie(db, client):
    from tests.support.compliance import approve_age

    user = UserFactory(username="fuzzviewer")
    approve_age(user)
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


def test_api_never_answers_5xx(db, viewer_cookie, monkeypatch):
    from marquee.compliance.throttles import AnonIPThrottle, IPThrottle, UserThrottle

    for throttle in (AnonIPThrottle, UserThrottle, IPThrottle):
        monkeypatch.setattr(throttle, "rate", "100000/min", raising=False)
    PerformerFactory(user=UserFactory(username="star"))
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    failures = []
    # The session cookie really authenticates (or the viewer half would be hollow).
    me = next(op for op in operations if op.path.rstrip("/").endswith("/me") and op.method.upper() == "GET")
    response = me.Case().call(cookies=viewer_cookie, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200 and response.json()["username"] == "fuzzviewer"

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case):
            # A generated Authorization header would outrank the cookie (every call a 401).
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            for cookies in (None, viewer_cookie):
                response = case.call(cookies=cookies, environ_base={"REMOTE_ADDR": "127.0.0.1"})
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
                elif response.status_code >= 400 and "json" in response.headers.get("Content-Type", [""])[0]:
                    assert "error" in response.json(), (case.method, case.formatted_path, response.text[:200])

        check()
    assert failures == []
