"""Issue 15 item 12: an unexpected error is the site's styled 500 page, with
DEBUG on (``make run``) too, never Django's technical page nor a traceback;
JSON for machine paths; the traceback goes to the log."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_boom")]


@pytest.fixture
def browser():
    client = Client(raise_request_exception=False)
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    return client


@pytest.mark.parametrize("debug", [False, True])
def test_a_failing_page_is_the_styled_500(browser, settings, debug, caplog):
    settings.DEBUG = debug
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = browser.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "Back to the rooms" in html
    assert "secret-ish internal detail" not in html and "Traceback" not in html and "RuntimeError" not in html
    # Logged once, with the traceback.
    records = [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]
    assert len(records) == 1 and records[0].exc_info and records[0].exc_info[0] is RuntimeError


def test_json_callers_get_a_json_500(browser, settings):
    settings.DEBUG = True
    response = browser.get("/boom/", HTTP_ACCEPT="application/json")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "Something went wrong on our side. It has been logged."}
    }


def test_technical_page_can_be_asked_for(browser, settings):
    settings.DEBUG = True
    settings.STYLED_ERROR_PAGES = False
    response = browser.get("/boom/")
    assert response.status_code == 500 and "RuntimeError" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/missing/", "/no/such/route/"])
def test_not_found_is_styled(browser, settings, debug, path):
    settings.DEBUG = debug
    response = browser.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here." in html and "Back to the rooms" in html
    assert "URLconf" not in html and "internal lookup detail" not in html
