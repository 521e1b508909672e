"""Database turns for live-server tests on SQLite in memory.

pytest-django's live server threads share the test thread's one connection
to the in-memory database, so a request served while the test reads or
writes can interleave statements on one connection ("database table is
locked", a broken atomic block).  ``taking_turns`` makes every request and
every statement take one re-entrant lock: a request runs whole, and the
test's own statements wait for it.  The root conftest turns it on for every
test that uses ``live_server`` on SQLite; PostgreSQL gives each thread its
own connection and needs none of it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

DB_TURN = threading.RLock()


def turn(fn):
    """Run ``fn`` (several statements that belong together) in one turn."""
    with DB_TURN:
        return fn()


def _one_statement_at_a_time(execute, sql, params, many, context):
    with DB_TURN:
        return execute(sql, params, many, context)


@contextmanager
def taking_turns(monkeypatch):
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    serve = WSGIHandler.__call__

    def one_request_at_a_time(self, environ, start_response):
        with DB_TURN:
            return serve(self, environ, start_response)

    monkeypatch.setattr(WSGIHandler, "__call__", one_request_at_a_time)
    with connection.execute_wrapper(_one_statement_at_a_time):
        yield
