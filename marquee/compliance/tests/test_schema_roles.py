"""The published OpenAPI schema is the contract: every operation, called as a
viewer, a performer and staff with generated (bounded) inputs, answers no
5xx, only documented status codes and content types, and bodies that match
the documented response schema."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import ShowFactory, UserFactory, enable_totp

from .conftest import approve_age

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 6

pytestmark = pytest.mark.slow


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


@pytest.fixture(autouse=True)
def _no_throttles(monkeypatch):
    from marquee.compliance.throttles import AnonIPThrottle, IPThrottle, UserThrottle

    for throttle in (AnonIPThrottle, UserThrottle, IPThrottle):
        monkeypatch.setattr(throttle, "rate", "100000/min", raising=False)


def _token_for(client, user) -> str:
    """A real allauth-headless access JWT (the app API's credential; a session
    cookie would need CSRF on every write), valid for the whole run."""
    from allauth.headless.tokens.strategies.jwt import internal

    client.force_login(user)
    sid = internal.session_key_to_sid(client.session.session_key)
    return internal.create_token("access", sub=str(user.pk), sid=sid, expires_in=3600)[0]


@pytest.fixture
def world(db, performer):
    """Something to find: a scheduled show of the (verified, 2FA) performer."""
    ShowFactory(performer=performer)
    return performer


@pytest.fixture
def as_viewer(world, client):
    user = UserFactory(username="fuzzviewer")
    approve_age(user)
    return "fuzzviewer", _token_for(client, user)


@pytest.fixture
def as_performer(world, client):
    approve_age(world.user)
    return "performer", _token_for(client, world.user)


@pytest.fixture
def as_staff(world, client, staff):
    enable_totp(staff)
    approve_age(staff)
    return "staff", _token_for(client, staff)


def _describe(exc) -> str:
    found = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(f"{type(e).__name__}: {str(e)[:160]}" for e in found).replace("\n", " ")


def _as_role(case, token):
    """Send the role's credential instead of any generated one."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "cookie")}
    case.headers = {**headers, "Authorization": f"Bearer {token}"}
    case.cookies = {}
    return case


def _run(role, token):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40

    # The cookie really authenticates this role (or the run would be hollow).
    me = next(op for op in operations if op.path.rstrip("/").endswith("/me") and op.method.upper() == "GET")
    response = _as_role(me.Case(), token).call(environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200 and response.json()["username"] == role

    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case):
            response = _as_role(case, token).call(environ_base={"REMOTE_ADDR": "127.0.0.1"})
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as exc:  # collect all, report at once
                failures.append(f"{case.method} {case.operation.path} -> {response.status_code}: {_describe(exc)}")

        check()
    # One line per distinct failure keeps the report readable.
    distinct = sorted(set(failures))
    assert not distinct, f"{len(distinct)} failures:\n" + "\n".join(distinct)


def test_schema_holds_for_a_viewer(as_viewer):
    _run(*as_viewer)


def test_schema_holds_for_a_performer(as_performer):
    _run(*as_performer)


def test_schema_holds_for_staff(as_staff):
    _run(*as_staff)
