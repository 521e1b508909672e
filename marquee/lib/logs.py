"""Structured JSON logs carrying one request id across web and worker.

The id comes from a trusted ``X-Request-ID`` (e.g. set by the load balancer)
or is made here; it is answered in the response header, put on every log
record of the request, and travels to Celery tasks sent during it as a
message header, so a worker's log lines name the request that caused them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "request_id"


def new_request_id(incoming: str | None = None) -> str:
    """The caller's id when it is well formed (no log injection), else a new one."""
    if incoming and _VALID_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIDFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str)


class RequestIDMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = rid
        # Not reset on the way out: Django logs a request's 4xx/5xx after the
        # middleware returns, and under ASGI each request has its own context.
        request_id_var.set(rid)
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        return response


# Celery: connected in marquee/celery.py.


def on_before_task_publish(headers=None, **kwargs) -> None:
    rid = request_id_var.get()
    if rid and headers is not None and HEADER not in headers:
        headers[HEADER] = rid


def _eager(task) -> bool:
    # An eager task runs inside the caller's request: it keeps that id.
    return task is None or bool(getattr(task.request, "is_eager", False))


def on_task_prerun(task=None, **kwargs) -> None:
    if not _eager(task):
        request_id_var.set(new_request_id(getattr(task.request, HEADER, None)))


def on_task_postrun(task=None, **kwargs) -> None:
    if not _eager(task):
        request_id_var.set("")
