"""One request id across web and worker, in JSON log lines."""

from __future__ import annotations

import contextvars
import json
import logging
import types

import pytest

from marquee.lib import logs

pytestmark = pytest.mark.django_db


def test_response_carries_a_new_id_or_the_callers_well_formed_one(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})["X-Request-ID"] == "lb-1234abcd"
    # Anything that could forge a log line is replaced, not echoed.
    forged = client.get("/healthz", headers={"X-Request-ID": 'x"\n{"level": "INFO"'})["X-Request-ID"]
    assert forged != 'x"\n{"level": "INFO"' and len(forged) == 32


def test_log_lines_during_a_request_name_its_id(client, monkeypatch):
    lines = []
    handler = logging.Handler()
    handler.addFilter(logs.RequestIDFilter())
    handler.setFormatter(logs.JSONFormatter())
    handler.emit = lambda record: lines.append(handler.format(record))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.post("/webhooks/no-such-provider/", data=b"{}", content_type="application/json",
                               headers={"X-Request-ID": "req-abcdef12"})  # fmt: skip
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    records = [json.loads(line) for line in lines]
    assert records, "Django logs the 404 on django.request"
    assert {r["request_id"] for r in records} == {"req-abcdef12"}
    assert {"ts", "level", "logger", "message"} <= set(records[0])


def test_the_id_travels_to_a_task_as_a_header_and_back_into_the_worker_context():
    token = logs.request_id_var.set("req-abcdef12")
    try:
        headers = {}
        logs.on_before_task_publish(headers=headers)
        assert headers == {"request_id": "req-abcdef12"}
    finally:
        logs.request_id_var.reset(token)
    # In the worker (another process: a fresh context) the header sets the id.

    def worker():
        assert logs.request_id_var.get() == ""
        task = types.SimpleNamespace(request=types.SimpleNamespace(request_id="req-abcdef12", is_eager=False))
        logs.on_task_prerun(task=task)
        assert logs.request_id_var.get() == "req-abcdef12"
        logs.on_task_postrun(task=task)
        assert logs.request_id_var.get() == ""

    contextvars.Context().run(worker)


def test_an_eager_task_keeps_the_requests_id():
    token = logs.request_id_var.set("req-abcdef12")
    try:
        task = types.SimpleNamespace(request=types.SimpleNamespace(request_id=None, is_eager=True))
        logs.on_task_prerun(task=task)
        logs.on_task_postrun(task=task)
        assert logs.request_id_var.get() == "req-abcdef12"
    finally:
        logs.request_id_var.reset(token)


def test_celery_app_has_the_handlers_connected():
    from celery.signals import before_task_publish, task_prerun

    import marquee.celery  # noqa: F401

    assert any(r[1]() is logs.on_before_task_publish or r[1] is logs.on_before_task_publish
               for r in before_task_publish.receivers)  # fmt: skip
    assert any(r[1]() is logs.on_task_prerun or r[1] is logs.on_task_prerun for r in task_prerun.receivers)
