"""The web process's start-up (``lib.server_process``): the deployment runs
the ASGI lifespan, and the lifespan tunes the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def restore_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def run_lifespan(app, *messages):
    sent = []
    queue = list(messages)

    async def receive():
        return {"type": queue.pop(0)}

    async def send(message):
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    return sent


@override_settings(WEB_GC_FULL_COLLECTION_AFTER=1234)
def test_the_lifespan_freezes_the_start_up_heap_and_defers_full_collections(restore_gc):
    from marquee.asgi import application

    gc.unfreeze()
    young, middle, _ = gc.get_threshold()
    assert gc.get_freeze_count() == 0

    sent = run_lifespan(application, "lifespan.startup", "lifespan.shutdown")

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert gc.get_threshold() == (young, middle, 1234)
    assert gc.get_freeze_count() > 10_000  # Django, the apps, the URL patterns: walked by no later collection


def deployment_commands() -> dict[str, str]:
    procfile = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    containerfile = (ROOT / "deploy" / "Containerfile").read_text()
    cluster = (ROOT / "deploy" / "cluster" / "cluster.sh").read_text()
    return {
        "Procfile": procfile.partition(":")[2],
        "Containerfile": re.search(r"exec (uvicorn [^\"]+)", containerfile).group(1),
        "cluster": re.search(r"uvicorn\" (marquee\.asgi:application[^;]+)", cluster).group(1),
    }


@pytest.mark.parametrize("where", ["Procfile", "Containerfile", "cluster"])
def test_every_deployment_runs_the_lifespan(where):
    args = shlex.split(deployment_commands()[where].replace("\\\n", " "))
    assert args[args.index("--lifespan") + 1] == "on"


@pytest.mark.slow
def test_the_procfile_web_command_starts_through_the_lifespan(tmp_path):
    """The Procfile's own command line, as ``make run`` starts it: uvicorn
    refuses to serve if the application fails its lifespan start-up."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = shlex.split(deployment_commands()["Procfile"].replace("$PORT", str(port)))
    args = [sys.executable, "-m", "uvicorn", *args[1:]]
    args = [re.sub(r"\$\{CHAT_MAX_FRAME_BYTES:-(\d+)\}", r"\1", arg) for arg in args]
    log = tmp_path / "uvicorn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            while b"Application startup complete" not in log.read_bytes():
                assert proc.poll() is None, log.read_text()
                assert time.time() < deadline, log.read_text()
                time.sleep(0.1)
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        finally:
            proc.terminate()
            proc.wait(10)
