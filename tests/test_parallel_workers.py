"""Parallel test workers (pytest-xdist) share no Redis state: worker gwN gets
the configured Redis database + N and its own key prefix, so one worker's
``cache.clear()`` (FLUSHDB) or pub/sub channels never reach another's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

CODE = (
    "import json; from marquee import settings as s;"
    "print(json.dumps([s.REDIS_URL, s.CACHES['default'].get('LOCATION'), s.CACHES['default'].get('KEY_PREFIX'),"
    " s.CHAT_CHANNEL_PREFIX, s.RECS_BUFFER_KEY]))"
)


def _settings_of(tmp_path, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"PYTEST_XDIST_WORKER", "REDIS_URL", "CACHE_KEY_PREFIX"}}
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        env={**base, "DATABASE_URL": "", "MARQUEE_VAR_DIR": str(tmp_path), **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_each_worker_gets_its_own_redis_database_and_key_prefix(tmp_path):
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/11", "CACHE_KEY_PREFIX": "ci"}
    assert _settings_of(tmp_path, **redis) == [
        "redis://127.0.0.1:6379/11",
        "redis://127.0.0.1:6379/11",
        "ci",
        "ci:chat",
        "ci:recs:interactions",
    ]
    assert _settings_of(tmp_path, PYTEST_XDIST_WORKER="gw0", **redis) == [
        "redis://127.0.0.1:6379/11",
        "redis://127.0.0.1:6379/11",
        "ci_gw0",
        "ci_gw0:chat",
        "ci_gw0:recs:interactions",
    ]
    assert _settings_of(tmp_path, PYTEST_XDIST_WORKER="gw1", **redis) == [
        "redis://127.0.0.1:6379/12",
        "redis://127.0.0.1:6379/12",
        "ci_gw1",
        "ci_gw1:chat",
        "ci_gw1:recs:interactions",
    ]


def test_a_redis_url_without_a_database_number_starts_at_database_0(tmp_path):
    worker = _settings_of(tmp_path, PYTEST_XDIST_WORKER="gw2", REDIS_URL="redis://:secret@redis.example:6380")
    assert worker[:3] == ["redis://:secret@redis.example:6380/2", "redis://:secret@redis.example:6380/2", "marquee_gw2"]


def test_without_redis_workers_still_get_their_own_prefix(tmp_path):
    assert _settings_of(tmp_path, PYTEST_XDIST_WORKER="gw1")[0] == ""
    assert _settings_of(tmp_path, PYTEST_XDIST_WORKER="gw1")[3] == "marquee_gw1:chat"
