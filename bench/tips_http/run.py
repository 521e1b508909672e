"""Tips over HTTP vs a trivial authenticated read, same server, same client, same run.

    DATABASE_URL=postgres://... REDIS_URL=redis://.../11 .venv/bin/python bench/tips_http/run.py

Starts the real ASGI app on uvicorn (the command line of the Procfile's web
process; ``--workers`` as ``make run``: 1), logs ``--clients`` age-verified,
funded viewers in through allauth's app API (JWT, as the mobile app does) and
then alternates short rounds of

* ``GET /api/v1/wallet/`` (the goal's "trivial authenticated read"), and
* ``POST /api/v1/rooms/<performer>/tips/`` (1 token, a fresh Idempotency-Key)

from the same asyncio client (``--clients`` connections, one per viewer, all
tipping one live room with a goal).  Prints requests/s of each (median of the
rounds), p50/p99 latency, the ratio tips/wallet (goal ≥ 0.5), every non-2xx
answer, and the ledger invariants afterwards.  Rate limits are raised by
environment (their checks still run); nothing else differs from ``make run``."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from bench.support import free_port, start_uvicorn  # noqa: E402

SERVER_ENV = {
    "LOG_LEVEL": "WARNING",
    # Production settings (no per-query debug logging); TLS ends at the proxy in front.
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECRET_KEY": secrets.token_urlsafe(40),
    "MEDIA_HOOK_SECRET": secrets.token_urlsafe(20),
    "RECORDS_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "JWT_ACCESS_TOKEN_SECONDS": "3600",  # the run outlives the 5 min default; no refresh traffic
    # The limits are checked on every request as in production, set high enough not to refuse the bench.
    "API_RATE_IP": "100000000/min",
    "API_RATE_USER": "100000000/min",
    "API_RATE_TIPS": "100000000/min",
}


def start_server(port: int, workers: int, conn_max_age: str | None) -> subprocess.Popen:
    env = dict(SERVER_ENV)
    if conn_max_age is not None:
        env["DB_CONN_MAX_AGE"] = conn_max_age
    return start_uvicorn(port, workers=workers, options=("--lifespan", "off"), env=env)


def setup(clients: int):
    """A live room with a tip goal and ``clients`` funded, age-verified viewers."""
    from django.utils import timezone

    from marquee.billing import services
    from marquee.billing.models import Product, Purchase
    from marquee.compliance.models import AgeVerification
    from marquee.shows.models import Show
    from tests.factories import PASSWORD, PerformerFactory, UserFactory

    run = uuid.uuid4().hex[:6]
    performer = PerformerFactory(
        user=UserFactory(username=f"http-perf-{run}"), tip_goal_tokens=1000, tip_goal_label="Bench"
    )
    Show.objects.create(performer=performer, title="Bench", status=Show.Status.LIVE, started_at=timezone.now())
    emails = []
    for i in range(clients):
        user = UserFactory(username=f"http-{run}-{i}", email=f"http-{run}-{i}@example.test")
        AgeVerification.objects.create(
            user=user, provider="bench", status=AgeVerification.Status.APPROVED, decided_at=timezone.now()
        )
        purchase = Purchase.objects.create(
            user=user, provider="sandbox", product=Product.TOKENS, tokens=10**6, amount_cents=10**6, description="bench"
        )
        services.sandbox_complete_checkout(purchase=purchase, pay=True)
        emails.append(user.email)
    return performer.username, emails, PASSWORD


async def login(http, email: str, password: str) -> str:
    response = await http.post("/_allauth/app/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["meta"]["access_token"]


async def round_(http, tokens: list[str], seconds: float, request) -> tuple[float, list[float], dict]:
    """``len(tokens)`` concurrent clients each sending ``request`` back to back
    for ``seconds``; (requests/s, latencies, non-2xx counts by status)."""
    latencies: list[float] = []
    errors: dict = {}
    stop = time.perf_counter() + seconds

    async def one(index: int, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        n = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            response = await request(http, headers, f"{index}-{n}-{uuid.uuid4().hex[:8]}")
            latencies.append(time.perf_counter() - t0)
            if response.status_code >= 300:
                errors[response.status_code] = errors.get(response.status_code, 0) + 1
                if errors[response.status_code] == 1:
                    print(f"  {response.status_code}: {response.text[:200]}", file=sys.stderr)
            n += 1

    began = time.perf_counter()
    await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
    ok = len(latencies) - sum(errors.values())
    return ok / (time.perf_counter() - began), latencies, errors


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the server process (comparable on a busy machine)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_connections(pid: int) -> int:
    """TCP connections the server process holds to PostgreSQL (port 5432)."""
    out = subprocess.run(["ss", "-tnp"], capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines() if f"pid={pid}," in line and ":5432" in line)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * p) - 1)] * 1000


async def drive(port: int, server_pid: int, room: str, emails: list[str], password: str, args) -> dict:
    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # no log line per request in the client

    async def wallet(http, headers, _key):
        return await http.get("/api/v1/wallet/", headers=headers)

    async def tip(http, headers, key):
        return await http.post(
            f"/api/v1/rooms/{room}/tips/", json={"tokens": 1}, headers={**headers, "Idempotency-Key": key}
        )

    limits = httpx.Limits(max_connections=len(emails), max_keepalive_connections=len(emails))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as http:
        tokens = [await login(http, email, password) for email in emails]
        await round_(http, tokens, 2, wallet)  # warm up both paths (imports, connections, caches)
        await round_(http, tokens, 2, tip)
        results: dict = {"wallet": [], "tips": []}
        cpu: dict = {"wallet": [0.0, 0], "tips": [0.0, 0]}  # server CPU seconds, requests
        for _ in range(args.rounds):  # alternate, so drift in the machine's load hits both alike
            for name, request in (("wallet", wallet), ("tips", tip)):
                before = cpu_seconds(server_pid)
                rate, latencies, errors = await round_(http, tokens, args.seconds, request)
                cpu[name][0] += cpu_seconds(server_pid) - before
                cpu[name][1] += len(latencies)
                results[name].append((rate, latencies, errors))
        results["cpu"] = cpu
        results["db_connections"] = db_connections(server_pid)
        return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn processes (make run starts 1)")
    parser.add_argument(
        "--db-conn-max-age",
        help="the server's DB_CONN_MAX_AGE (default: the settings' 60 s; under ASGI every request's thread then "
        "keeps its own connection, see docs/benchmarks.md)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database (and REDIS_URL to a Redis db)")
    call_command("migrate", verbosity=0)
    room, emails, password = setup(args.clients)
    connections.close_all()
    port = free_port()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    server = start_server(port, args.workers, args.db_conn_max_age)
    try:
        results = asyncio.run(drive(port, server.pid, room, emails, password, args))
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = Path("/proc/loadavg").read_text().split()[:3]

    from marquee.ledger.selectors import check_invariants

    print(
        f"clients={args.clients} workers={args.workers} rounds={args.rounds}x{args.seconds:.0f}s "
        f"db_conn_max_age={args.db_conn_max_age or 'default'}"
    )
    rates = {}
    cpu, connections_held = results.pop("cpu"), results.pop("db_connections")
    for name, rounds in results.items():
        rates[name] = statistics.median(r for r, _, _ in rounds)
        latencies = [x for _, lat, _ in rounds for x in lat]
        errors: dict = {}
        for _, _, errs in rounds:
            for status, count in errs.items():
                errors[status] = errors.get(status, 0) + count
        per_round = " ".join(f"{r:.0f}" for r, _, _ in rounds)
        print(
            f"{name}: requests_per_second={rates[name]:.0f} (rounds {per_round}) "
            f"p50={pct(latencies, 0.5):.1f}ms p99={pct(latencies, 0.99):.1f}ms non_2xx={errors or 0}"
        )
    print(f"ratio_tips_to_wallet={rates['tips'] / rates['wallet']:.3f} (goal >= 0.5)")
    # Under a loaded machine throughput swings with the run queue; the server's
    # CPU per request does not: wallet CPU / tip CPU is the throughput ratio the
    # same server would reach when it is the bottleneck.
    per = {name: 1000 * seconds / max(n, 1) for name, (seconds, n) in cpu.items()}
    print(
        f"server_cpu_ms_per_request wallet={per['wallet']:.1f} tips={per['tips']:.1f} "
        f"ratio_wallet_cpu_to_tip_cpu={per['wallet'] / max(per['tips'], 1e-9):.3f}"
    )
    print(f"server_postgres_connections_at_end={connections_held}")
    report = check_invariants()
    print(f"invariant_violations={len(report.problems)}")
    print(f"load_average before={' '.join(load_before)} after={' '.join(load_after)}")


if __name__ == "__main__":
    main()
