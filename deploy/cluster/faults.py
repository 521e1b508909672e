"""`make cluster-faults`: each fault against the running cluster, one line per
case with losses and duplicates; exit 1 on any loss, duplicate or failure.

Runs on the host with the cluster's settings (var/cluster/env), so it can
publish room events and sign playback URLs the way the web nodes do."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / "var" / "cluster"
CLUSTER = ROOT / "deploy" / "cluster" / "cluster.sh"
PORT = int(os.environ.get("CLUSTER_PORT", "8800"))
SITE = f"http://127.0.0.1:{PORT}"
ROOM = os.environ.get("CLUSTER_ROOM", "performer1")
SOCKETS = int(os.environ.get("CLUSTER_SOCKETS", "500"))
EVENTS = int(os.environ.get("CLUSTER_EVENTS", "200"))


def setup_django():
    env = dict(line.split("=", 1) for line in (STATE / "env").read_text().split() if "=" in line)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def node(action: str, name: str) -> None:
    subprocess.run([str(CLUSTER), action, name], check=True, cwd=ROOT)


def wait_healthy(url: str, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return None


def report(case: str, ok: bool, **figures) -> bool:
    details = " ".join(f"{k}={v}" for k, v in figures.items())
    print(f"{'PASS' if ok else 'FAIL'} {case}: {details}", flush=True)
    return ok


# --- chat: kill a web node under N sockets -------------------------------------------


def age_gated_session() -> str:
    from django.contrib.sessions.backends.db import SessionStore

    from marquee.compliance.middleware import AGE_GATE_SESSION_KEY

    session = SessionStore()
    session[AGE_GATE_SESSION_KEY] = True
    session.create()
    return session.session_key


class Reader:
    """One chat socket that reconnects with ?last_id= whenever it is dropped."""

    def __init__(self, cookie: str):
        self.cookie, self.start_id, self.last_id = cookie, None, 0
        self.seen: list[int] = []
        self.reconnects = 0
        self.resets = 0

    async def run(self, stop: asyncio.Event):
        import websockets

        while not stop.is_set():
            url = f"ws://127.0.0.1:{PORT}/ws/rooms/{ROOM}/chat/"
            if self.start_id is not None:
                url += f"?last_id={self.last_id}"
            try:
                async with websockets.connect(
                    url, origin=SITE, additional_headers={"Cookie": f"sessionid={self.cookie}"}, open_timeout=20
                ) as ws:
                    async for raw in ws:
                        for event in json.loads(raw):
                            if event.get("type") == "hello":
                                if self.start_id is None:
                                    self.start_id = self.last_id = event["last_id"]
                                elif event.get("reset"):
                                    self.resets += 1
                            elif (
                                "id" in event
                                and event.get("type") == "system"
                                and "fault-test" in event.get("text", "")
                            ):
                                self.seen.append(event["id"])
                                self.last_id = max(self.last_id, event["id"])
                            elif "id" in event:
                                self.last_id = max(self.last_id, event["id"])
                        if stop.is_set():
                            return
            except Exception:  # dropped (node killed, 4408): reconnect and resume below
                self.reconnects += 0
            if not stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(0.2 + (self.reconnects % 10) * 0.05)


async def chat_case(kill: str | None, case: str, during=None) -> bool:
    from asgiref.sync import sync_to_async

    from marquee.chat import hub as fanout

    cookie = await sync_to_async(age_gated_session)()
    readers = [Reader(cookie) for _ in range(SOCKETS)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in readers]
    deadline = time.monotonic() + 60
    while any(r.start_id is None for r in readers) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    joined = sum(r.start_id is not None for r in readers)
    published = []
    for i in range(EVENTS):
        if i == EVENTS // 4 and during:
            await sync_to_async(during)()
        seq = await sync_to_async(fanout.publish_room_event)(ROOM, {"type": "system", "text": f"fault-test {case} {i}"})
        published.append(seq)
        await asyncio.sleep(0.02)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(
        (r.seen[-1] if r.seen else 0) < published[-1] for r in readers if r.start_id is not None
    ):
        await asyncio.sleep(0.5)
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    expected = list(published)
    losses = duplicates = 0
    for r in readers:
        want = [s for s in expected if r.start_id is not None and s > r.start_id]
        got = r.seen
        duplicates += len(got) - len(set(got))
        losses += len(set(want) - set(got))
    reconnects = sum(r.reconnects for r in readers)
    return report(
        case,
        joined == SOCKETS and losses == 0 and duplicates == 0,
        sockets=joined,
        events=len(published),
        reconnects=reconnects,
        losses=losses,
        duplicates=duplicates,
        resets=sum(r.resets for r in readers),
    )


def kill_web1():
    node("kill", "web1")


# --- playback: stop one edge ---------------------------------------------------------


def edge_case() -> bool:
    from marquee.shows.models import Show
    from marquee.shows.playback import playback_path

    show = Show.objects.filter(performer__user__username=ROOM, status=Show.Status.LIVE).first()
    if show is None:
        return report("stop one edge", False, error="no live show (demo stream not running)")
    path = playback_path(viewer="faults", show=show.pk, stream=ROOM, expires=int(time.time()) + 600)
    before = [httpx.get(SITE + path, timeout=5).status_code for _ in range(10)]
    node("kill", "edge1")
    failures = 0
    for _ in range(60):
        try:
            if httpx.get(SITE + path, timeout=5).status_code != 200:
                failures += 1
        except httpx.HTTPError:
            failures += 1
        time.sleep(0.05)
    node("launch", "edge1")
    forged = httpx.get(SITE + path.replace("/faults/", "/someone/"), timeout=5).status_code
    return report(
        "stop one edge",
        before.count(200) == 10 and failures == 0 and forged == 403,
        requests=60,
        failed=failures,
        before_ok=before.count(200),
        forged_status=forged,
    )


# --- Redis restart --------------------------------------------------------------------


def restart_redis():
    node("kill", "redis")
    time.sleep(1)
    node("launch", "redis")


def redis_case() -> bool:
    """Both web nodes report every component ok again (cache, real-time publisher)."""
    restart_redis()
    started, status = time.monotonic(), {}
    while time.monotonic() - started < 60:
        for web in ("10.231.0.11", "10.231.0.12"):
            try:
                status[web] = httpx.get(f"http://{web}:8000/healthz", timeout=3).json()["status"]
            except (httpx.HTTPError, ValueError):
                status[web] = "down"
        if all(v == "ok" for v in status.values()):
            break
        time.sleep(0.5)
    recovered = time.monotonic() - started
    ok = all(v == "ok" for v in status.values())
    return report("restart redis (health)", ok, recovered_s=round(recovered, 1), status=",".join(status.values()))


# --- worker killed mid-ticks ------------------------------------------------------------


def worker_case() -> bool:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    def done_ticks():
        return (STATE / "worker2.log").read_text().count("marquee.privates.tasks.tick[") // 2

    before = done_ticks()
    node("kill", "worker1")
    time.sleep(12)  # two private-billing ticks (5 s beat) must land on the remaining worker
    ticks = done_ticks() - before
    node("launch", "worker1")
    try:
        with open(os.devnull, "w") as devnull:
            call_command("ledger_check", stdout=devnull)
        ledger_ok = True
    except CommandError:
        ledger_ok = False
    return report("kill a worker mid-ticks", ledger_ok and ticks > 0, ledger_check="ok" if ledger_ok else "FAILED",
                  worker2_ticks=ticks)  # fmt: skip


# --- PostgreSQL restart ----------------------------------------------------------------


def web_status(web: str) -> tuple[int, str]:
    try:
        response = httpx.get(f"http://{web}:8000/healthz", timeout=5)
        return response.status_code, response.json()["status"]
    except (httpx.HTTPError, ValueError):
        return 0, "unreachable"


def postgres_case() -> bool:
    """Web nodes say 503 while the database is gone and recover without a restart;
    the ledger and the audit chain are whole afterwards."""
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connections

    webs = ("10.231.0.11", "10.231.0.12")
    node("kill", "db")
    time.sleep(1)
    during = [web_status(w)[0] for w in webs]
    node("launch", "db")
    started, after = time.monotonic(), []
    while time.monotonic() - started < 60:
        after = [web_status(w) for w in webs]
        if all(a == (200, "ok") for a in after):
            break
        time.sleep(0.5)
    recovered = round(time.monotonic() - started, 1)
    connections.close_all()  # this script's own connection died with the server
    checks = {}
    for name in ("ledger_check", "audit_verify"):
        try:
            with open(os.devnull, "w") as devnull:
                call_command(name, stdout=devnull)
            checks[name] = "ok"
        except CommandError:
            checks[name] = "FAILED"
    ok = all(d == 503 for d in during) and all(a == (200, "ok") for a in after) and set(checks.values()) == {"ok"}
    return report("restart postgresql", ok, during=",".join(map(str, during)), recovered_s=recovered, **checks)


def main() -> int:
    if not (STATE / "env").exists():
        print("cluster is not up: make cluster")
        return 2
    setup_django()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    results = [
        asyncio.run(chat_case(None, "chat baseline (no fault)")),
        asyncio.run(chat_case("web1", "kill a web node under chat sockets", during=kill_web1)),
    ]
    node("launch", "web1")
    wait_healthy("http://10.231.0.11:8000/healthz", 60)
    results += [edge_case(), worker_case(), redis_case(), postgres_case()]
    print(f"{sum(results)}/{len(results)} cases passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
