"""PostgreSQL connections come from a bounded pool per process (Django's
psycopg pool), so no request or chat post starts a connection and no thread
keeps one of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connection

CODE = (
    "import json; from marquee import settings as s; d = s.DATABASES['default'];"
    "print(json.dumps([d.get('OPTIONS', {}).get('pool'), d['CONN_MAX_AGE']]))"
)


def _database_settings(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        env={**base, "MARQUEE_VAR_DIR": str(tmp_path), **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_postgresql_gets_a_bounded_pool_and_keeps_no_connection_per_thread(tmp_path):
    url = "postgres://postgres@127.0.0.1:5432/anything"
    assert _database_settings(tmp_path, DATABASE_URL=url) == [{"min_size": 1, "max_size": 10, "timeout": 10}, 0]
    pool = _database_settings(tmp_path, DATABASE_URL=url, DB_POOL_MAX_SIZE="4", DB_CONN_MAX_AGE="60")
    assert pool == [{"min_size": 1, "max_size": 4, "timeout": 10}, 0]  # the pool wins: Django refuses both
    # Turned off, DB_CONN_MAX_AGE applies again.
    assert _database_settings(tmp_path, DATABASE_URL=url, DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="60") == [None, 60]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threads_borrow_and_return_pooled_connections():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert connection.pool is not None
    backends = []

    def query():
        from django.db import connection as mine

        with mine.cursor() as cursor:
            cursor.execute("select pg_backend_pid()")
            backends.append(cursor.fetchone()[0])
        mine.close()  # what the end of a request does: back to the pool, not closed

    size = settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"]
    for _ in range(size + 2):
        thread = threading.Thread(target=query)
        thread.start()
        thread.join()
    # More threads than the pool holds, one after another: they were served by
    # the pool's backends (without it each thread starts a backend of its own).
    assert len(backends) == size + 2
    assert len(set(backends)) <= size
