"""Chat resume across a Redis restart: with the deployed Redis configuration
(deploy/redis.conf, append-only file) a client that resumes from its last id
after the restart gets exactly the events it missed: no gap, no duplicate.
The same scenario without persistence shows what the file prevents."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings

from marquee.chat import protocol
from marquee.chat.hub import _can_resume
from marquee.lib.realtime import RedisBackend

CONF = Path(settings.BASE_DIR) / "deploy" / "redis.conf"
pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class PrivateRedis:
    """A redis-server of the test's own (never the shared one), restartable."""

    def __init__(self, directory: Path, args: list[str]):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.args = ["redis-server", *args, "--dir", str(directory), "--port", str(self.port), "--bind", "127.0.0.1"]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()  # what a restart does: SIGTERM, then start again
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path):
    servers = []

    def make(args):
        server = PrivateRedis(tmp_path / f"r{len(servers)}", args)
        (tmp_path / f"r{len(servers)}").mkdir()
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


def _ids(raws):
    return [json.loads(raw)["id"] for raw in raws]


def _resume_after_restart(server) -> tuple[bool, list[int], int]:
    room = "restart-room"
    chat = RedisBackend(server.url)
    for n in range(5):
        chat.publish(room, {"type": "message", "text": f"before {n}"})
    last_seen = 3  # the client got ids 1..3, then lost its socket

    server.stop()
    server.start()
    chat = RedisBackend(server.url)  # the web node reconnects
    for n in range(2):
        chat.publish(room, {"type": "message", "text": f"after {n}"})

    seq, ring = chat.recent(room)
    resumable = _can_resume(last_seen, seq, ring)
    return resumable, _ids(protocol.replay_after(ring, last_seen)) if resumable else [], seq


def test_resume_after_a_restart_with_the_deployed_config_has_no_gap_and_no_duplicate(private_redis):
    assert "appendonly yes" in CONF.read_text()
    resumable, replayed, seq = _resume_after_restart(private_redis([str(CONF)]))
    assert resumable
    assert replayed == [4, 5, 6, 7]  # exactly what was missed, in order, each once
    assert seq == 7


def test_without_persistence_the_same_client_could_not_resume(private_redis):
    # The control: ids restart at 1, so the client's id 3 is "in the future".
    resumable, _, seq = _resume_after_restart(private_redis(["--appendonly", "no", "--save", ""]))
    assert not resumable and seq == 2
