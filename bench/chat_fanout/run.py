"""Chat fan-out benchmark: N viewers in one room, one sender at R msg/s.

Starts uvicorn (1 or more worker processes) on a free port against the
configured database and Redis, opens N WebSocket viewers spread over client
processes (the ``websockets`` package), posts R messages/s for D seconds as
the performer (through the real post path: pipeline, publish, store), and
prints deliveries/s, p50/p99 latency (send → receive, same clock), losses,
duplicates and slow-client disconnects.

    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/4 CACHE_KEY_PREFIX=chat \\
        .venv/bin/python bench/chat_fanout/run.py --viewers 3000 --rate 20 --seconds 15 --workers 1

Every run measures the limit first, in the same run and on the same
machine: bench/chat_fanout/limit_server.py (the leanest fan-out server in
Python: asyncio on uvloop, the WebSocket protocol by hand, the app's
batching and frames, no Django, database or Redis) with the same viewers,
rate, seconds and client processes, through the same ``measure``; then the
app.  The JSON holds the app's figures, a ``limit`` object (p50/p99/max,
deliveries/s over the wall span, lost, server CPU µs per delivery, load
average) and ``p99_ratio_app_over_limit`` and ``cpu_ratio_app_over_limit``.
The viewers' processes share the cores with the server, so even the limit's
latency is not small here: the ratios are the figures that compare.  The
app's load average (1 minute) still carries the limit's run just before
it.  ``--no-limit`` skips the limit.

``--baseline`` serves the room with a stock Channels consumer doing
``group_send`` per message instead (bench/chat_fanout/baseline.py).
uvicorn gets the Procfile's ``--ws`` protocol (``BENCH_WS`` overrides it).

``--url ws://127.0.0.1:PORT --server-pid PID`` measures a server started
elsewhere, e.g. the Procfile's web command (``honcho start web``, as
``make run``), with its own settings: age gate on, the per-IP cap.  Each
viewer is then an anonymous reader with its own age-gated session (made
here in the database), arriving from its own address through
``X-Forwarded-For`` (start that server with ``TRUSTED_PROXIES=127.0.0.1/32``,
as behind the reverse proxy).  The limit is still started here, locally.
Without ``--server-pid`` the app's server CPU figures are null.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.chat_fanout.limit_server import frame_extent  # noqa: E402  (one frame-header parser)
from bench.support import free_port, raise_fd_limit, start_uvicorn  # noqa: E402

ROOM = "benchroom"


def prepare(readers: int = 0) -> tuple[str, list[str]]:
    """Room, performer and a session cookie for the sender (and ``readers``
    age-gated anonymous sessions)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from marquee.accounts.models import User
    from marquee.chat.models import ChatMessage
    from marquee.lib import realtime
    from marquee.performers.models import Performer

    call_command("migrate", verbosity=0)
    user, _ = User.objects.get_or_create(username=ROOM, defaults={"email": f"{ROOM}@bench.test"})
    Performer.objects.get_or_create(user=user, defaults={"display_name": "Bench", "verification_status": "verified"})
    Performer.objects.filter(user=user).update(anonymous_can_read_chat=True, chat_slow_mode_seconds=0)
    ChatMessage.objects.filter(performer__user=user).delete()  # a fresh room each run
    realtime.backend().reset()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key, reader_sessions(readers)


def reader_sessions(n: int) -> list[str]:
    """``n`` anonymous sessions that passed the age gate, as the age-gate page leaves them."""
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from marquee.compliance.middleware import AGE_GATE_SESSION_KEY

    data = SessionStore().encode({AGE_GATE_SESSION_KEY: True})
    expires = timezone.now() + timedelta(days=1)
    keys = [get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n)]
    Session.objects.bulk_create(
        [Session(session_key=k, session_data=data, expire_date=expires) for k in keys], batch_size=1000
    )
    return keys


def ws_option() -> str:
    return os.environ.get("BENCH_WS") or procfile_ws()


def procfile_ws() -> str:
    """The ``--ws`` protocol the Procfile's web process runs."""
    import shlex

    web = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    args = shlex.split(web.partition(":")[2])
    return args[args.index("--ws") + 1] if "--ws" in args else "auto"


def server_cpu(pid: int, kernel_only: bool = False) -> float:
    """CPU seconds of the server and its worker processes: on a shared,
    noisy machine CPU per delivery is the figure that stays comparable.
    ``kernel_only``: the system time alone (socket writes, and over loopback
    the receiving side's TCP work they trigger)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += ((0 if kernel_only else int(fields[11])) + int(fields[12])) / ticks
    return total


def start_server(port: int, workers: int, baseline: bool) -> subprocess.Popen:
    # Thousands of listeners from one address: lift the chat's per-IP socket cap.
    env = {"AGE_GATE_ENABLED": "0", "LOG_LEVEL": "WARNING", "CHAT_MAX_SOCKETS_PER_IP": "1000000"}
    app = "bench.chat_fanout.baseline:application" if baseline else "marquee.asgi:application"
    options = (
        "--ws-per-message-deflate",
        "false",
        "--backlog",
        "8192",
        "--ws",
        ws_option(),
    )
    return start_uvicorn(port, app=app, workers=workers, options=options, env=env, ready_seconds=60, many_sockets=True)


# --- viewers (client processes) --------------------------------------------------------


class _ViewerProtocol(asyncio.Protocol):
    """A lean WebSocket reader (RFC 6455 by hand: handshake, unmasked server
    frames, pong, close) so the load generator, which shares the 2 cores
    with the server, spends ~3x less CPU per frame than the ``websockets``
    client; what it records is the same."""

    def __init__(self, request: bytes, on_frame):
        self.request = request
        self.on_frame = on_frame
        self.buffer = bytearray()
        self.upgraded = False
        self.done = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data):
        buf = self.buffer
        buf += data
        pos = 0
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in bytes(buf[: buf.find(b"\r\n")]):
                self.transport.close()
                return
            self.upgraded = True
            pos = end + 4
        size = len(buf)
        while size - pos >= 2:
            head = buf[pos]
            extent = frame_extent(buf, pos, size)
            if extent is None:
                break
            length, start = extent
            if size < start + length:
                break
            payload = bytes(buf[start : start + length])
            pos = start + length
            opcode = head & 0x0F
            if opcode == 1:
                self.on_frame(payload)
            elif opcode == 9:  # ping: a masked pong (zero mask) with its payload
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
            elif opcode == 8:
                self.transport.write(b"\x88\x80\0\0\0\0")
                self.transport.close()
                break
        del buf[:pos]

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(exc)


async def raw_viewer(
    url: str, stats: dict, stop: asyncio.Event, ready: asyncio.Event, counter: list, headers: dict | None = None
) -> None:
    import base64
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    received: set[int] = set()
    stats["received_sets"].append(received)
    latencies = stats["latencies"]
    worst = stats["worst"]
    state = {"first": True, "last_id": None}
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())

    def on_frame(payload: bytes) -> None:
        if state["first"]:  # joined: the hello frame arrived
            counter[0] += 1
            if counter[0] == stats["expected_viewers"]:
                ready.set()
            state["first"] = False
        now = time.time()
        for event in json.loads(payload):
            if "id" in event:
                state["last_id"] = event["id"]
            if event.get("type") == "message" and event.get("text", "").startswith("b:"):
                _, seq, sent = event["text"].split(":")
                seq = int(seq)
                if seq in received:
                    stats["duplicates"] += 1
                    continue
                received.add(seq)
                stats["count"] += 1
                stats["last"] = now
                latency = now - float(sent)
                latencies.append(latency)
                if latency > worst.get(seq, 0.0):
                    worst[seq] = latency

    loop = asyncio.get_running_loop()
    while not stop.is_set():
        path = parts.path + (f"?last_id={state['last_id']}" if state["last_id"] is not None else "")
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1\r\n{extra}\r\n"
        ).encode()
        try:
            transport, proto = await asyncio.wait_for(
                loop.create_connection(partial(_ViewerProtocol, request, on_frame), parts.hostname, parts.port), 60
            )
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({proto.done, stopping}, return_when="FIRST_COMPLETED")
            finally:
                stopping.cancel()
                transport.close()
            if stop.is_set():
                break
            raise ConnectionError("closed by the server")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if stop.is_set():
                break
            stats["disconnects"] += 1
            stats.setdefault("errors", {}).setdefault(type(exc).__name__ + ":" + str(exc)[:60], 0)
            stats["errors"][type(exc).__name__ + ":" + str(exc)[:60]] += 1
            await asyncio.sleep(0.2)


async def viewer(
    url: str, stats: dict, stop: asyncio.Event, ready: asyncio.Event, counter: list, headers: dict | None = None
) -> None:
    import websockets

    received: set[int] = set()
    last_id = None
    latencies = stats["latencies"]
    first = True
    stats["received_sets"].append(received)
    while not stop.is_set():
        target = url + (f"?last_id={last_id}" if last_id is not None else "")
        try:
            async with websockets.connect(
                target,
                compression=None,
                max_size=None,
                open_timeout=60,
                origin="http://127.0.0.1",
                ping_interval=None,
                additional_headers=headers,
            ) as ws:
                async for frame in ws:
                    if first:  # joined: the hello frame arrived
                        counter[0] += 1
                        if counter[0] == stats["expected_viewers"]:
                            ready.set()
                        first = False
                    now = time.time()
                    for event in json.loads(frame):
                        if "id" in event:
                            last_id = event["id"]
                        if event.get("type") == "message" and event.get("text", "").startswith("b:"):
                            _, seq, sent = event["text"].split(":")
                            seq = int(seq)
                            if seq in received:
                                stats["duplicates"] += 1
                                continue
                            received.add(seq)
                            stats["count"] += 1
                            stats["last"] = now
                            latencies.append(now - float(sent))
                    if stop.is_set():
                        break
        except Exception as exc:
            if stop.is_set():
                break
            stats["disconnects"] += 1
            stats.setdefault("errors", {}).setdefault(type(exc).__name__ + ":" + str(exc)[:60], 0)
            stats["errors"][type(exc).__name__ + ":" + str(exc)[:60]] += 1
            await asyncio.sleep(0.2)


def client_process(
    url: str, n: int, conn, go, sending_done, sent_count, duration: float, identities=None, client="raw"
) -> None:
    raise_fd_limit()
    reader = raw_viewer if client == "raw" else viewer
    stats = {
        "latencies": [],
        "worst": {},
        "duplicates": 0,
        "disconnects": 0,
        "received_sets": [],
        "expected_viewers": n,
        "count": 0,
    }

    async def main():
        stop = asyncio.Event()
        ready = asyncio.Event()
        counter = [0]
        tasks = []
        for i in range(n):
            headers = identities[i] if identities else None
            tasks.append(asyncio.create_task(reader(url, stats, stop, ready, counter, headers)))
            if i % 100 == 99:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(ready.wait(), 300)
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        await asyncio.get_running_loop().run_in_executor(None, sending_done.wait)
        # Drain: until every viewer has every message, or nothing new arrived
        # for 10 s (a lagging server delivers late, which shows as latency;
        # only what never comes is lost).
        quiet, last, waited = 0, -1, 0
        while quiet < 10 and waited < 180:
            if all(len(r) >= sent_count.value for r in stats["received_sets"]):
                break
            await asyncio.sleep(1)
            waited += 1
            quiet = quiet + 1 if stats["count"] == last else 0
            last = stats["count"]
        stop.set()
        await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)

    asyncio.run(main())
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    received = [len(s) for s in stats["received_sets"]]
    conn.send(
        {
            "latencies": stats["latencies"],
            "worst": stats["worst"],
            "duplicates": stats["duplicates"],
            "disconnects": stats["disconnects"],
            "errors": stats.get("errors", {}),
            "received": received,
            "viewers": n,
            "cpu_seconds": cpu.ru_utime + cpu.ru_stime,
            "last": stats.get("last", 0.0),
        }
    )


async def sender(url: str, cookie: str, rate: float, duration: float) -> tuple[int, dict[int, float]]:
    """Posts ``rate``/s for ``duration`` s; returns how many, and each post's
    seconds from send to its ack (the post path alone, before any fan-out)."""
    import websockets

    sent = 0
    acked = 0
    sent_at: dict[int, float] = {}
    ack_seconds: dict[int, float] = {}
    async with websockets.connect(
        url,
        compression=None,
        origin="http://127.0.0.1",
        open_timeout=60,
        additional_headers={"Cookie": f"sessionid={cookie}"},
    ) as ws:

        async def drain():
            nonlocal acked
            async for frame in ws:
                now = time.time()
                for event in json.loads(frame):
                    # Acks, or errors (a refused post): either way it was processed.
                    if event.get("type") in ("ack", "error"):
                        acked += 1
                        if event.get("ref") in sent_at:
                            ack_seconds[event["ref"]] = now - sent_at[event["ref"]]

        drainer = asyncio.create_task(drain())
        start = time.time()
        while time.time() - start < duration:
            target = start + sent / rate
            await asyncio.sleep(max(0, target - time.time()))
            sent_at[sent] = time.time()
            await ws.send(json.dumps({"type": "message", "ref": sent, "text": f"b:{sent}:{sent_at[sent]:.6f}"}))
            sent += 1
        # Every post accepted (published) before we hang up.
        deadline = time.time() + 120
        while acked < sent and time.time() < deadline:
            await asyncio.sleep(0.1)
        drainer.cancel()
    return sent, ack_seconds


def start_limit(port: int) -> subprocess.Popen:
    """bench/chat_fanout/limit_server.py on ``port``, returned once it accepts connections."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("limit_server.py")), "--port", str(port)],
        cwd=ROOT,
        preexec_fn=raise_fd_limit,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"limit server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("limit server did not start")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:  # still closing its sockets: the figures are in
        server.kill()
        server.wait()


def measure(
    url: str,
    server_pid: int | None,
    *,
    cookie: str,
    identities: list[dict],
    viewers: int,
    rate: float,
    seconds: float,
    clients: int,
    client: str,
    profile: str | None = None,
) -> dict:
    """One run against the server at ``url`` (its CPU read from ``server_pid``
    and its children when given): the viewers join, the sender posts ``rate``
    messages/s for ``seconds``, the viewers drain; returns the figures."""
    go = multiprocessing.Event()
    sending_done = multiprocessing.Event()
    sent_count = multiprocessing.Value("i", 0)
    pipes, procs = [], []
    base, extra = divmod(viewers, clients)
    per = [base + (1 if i < extra else 0) for i in range(clients)]
    for i, n in enumerate(per):
        parent, child = multiprocessing.Pipe()
        mine = identities[sum(per[:i]) : sum(per[: i + 1])]
        proc = multiprocessing.Process(
            target=client_process,
            args=(url, n, child, go, sending_done, sent_count, seconds, mine, client),
        )
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    t0 = time.time()
    for pipe in pipes:
        assert pipe.recv() == "ready"
    connect_seconds = time.time() - t0
    time.sleep(1)
    cpu_before = server_cpu(server_pid) if server_pid else 0.0
    sys_before = server_cpu(server_pid, kernel_only=True) if server_pid else 0.0
    profiler = None
    if profile:  # the fan-out, not the joins: started once every viewer is in
        spy = [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "100", "--nonblocking", "-f", "raw"]
        profiler = subprocess.Popen(
            [*spy, "-d", str(int(seconds)), "-p", str(server_pid), "-o", profile],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    go_time = time.time()
    go.set()
    sent, ack_seconds = asyncio.run(sender(url, cookie, rate, seconds))
    sent_count.value = sent
    sending_done.set()
    results = [pipe.recv() for pipe in pipes]
    server_cpu_seconds = server_cpu(server_pid) - cpu_before if server_pid else 0.0
    server_sys_seconds = server_cpu(server_pid, kernel_only=True) - sys_before if server_pid else 0.0
    for proc in procs:
        proc.join(10)
    if profiler is not None:
        profiler.wait(60)

    latencies = sorted(x for r in results for x in r["latencies"])
    received = [x for r in results for x in r["received"]]
    deliveries = sum(received)
    expected = sent * viewers
    complete = sum(1 for x in received if x == sent)

    # The slowest delivery of the messages sent in each second: a stall shows as one bad second.
    worst: dict[int, float] = {}
    for r in results:
        for seq, latency in r["worst"].items():
            second = int(seq // rate)
            worst[second] = max(worst.get(second, 0.0), latency)

    # The same for the post path alone: send to the sender's ack.
    worst_ack: dict[int, float] = {}
    for seq, latency in ack_seconds.items():
        second = int(seq // rate)
        worst_ack[second] = max(worst_ack.get(second, 0.0), latency)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    measured = server_pid is not None and deliveries
    return {
        "connect_seconds": round(connect_seconds, 1),
        "posting_from_epoch": round(go_time, 3),  # to line up with the server's own logs
        "sent": sent,
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / seconds),
        # Over the real span (first send to last delivery): below the rate
        # above when the server falls behind.
        "deliveries_per_s_wall": round(deliveries / max(seconds, max(r["last"] for r in results) - go_time)),
        "expected_deliveries": expected,
        "lost": expected - deliveries,
        "viewers_with_every_message": complete,
        "duplicates": sum(r["duplicates"] for r in results),
        "disconnects": sum(r["disconnects"] for r in results),
        "server_cpu_seconds": round(server_cpu_seconds, 2) if server_pid else None,
        "server_cpu_us_per_delivery": round(server_cpu_seconds * 1e6 / deliveries, 2) if measured else None,
        "server_kernel_us_per_delivery": round(server_sys_seconds * 1e6 / deliveries, 2) if measured else None,
        "client_cpu_seconds": round(sum(r["cpu_seconds"] for r in results), 1),
        "load_average": os.getloadavg(),
        "p50_ms": round(pct(0.50), 1),
        "p99_ms": round(pct(0.99), 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "max_ms_by_second": [round(worst[s] * 1000) for s in sorted(worst)],
        "ack_max_ms_by_second": [round(worst_ack[s] * 1000) for s in sorted(worst_ack)],
        "errors": {k: v for r in results for k, v in r["errors"].items()},
    }


# What the JSON keeps of the limit's run.
LIMIT_FIGURES = (
    "connect_seconds",
    "sent",
    "deliveries_per_s_wall",
    "lost",
    "duplicates",
    "disconnects",
    "server_cpu_us_per_delivery",
    "server_kernel_us_per_delivery",
    "client_cpu_seconds",
    "load_average",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "max_ms_by_second",
    "ack_max_ms_by_second",
    "errors",
)


def ratio(app, limit) -> float | None:
    return round(app / limit, 2) if app is not None and limit else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=2, help="viewer client processes")
    parser.add_argument("--baseline", action="store_true", help="stock Channels group_send consumer")
    parser.add_argument("--url", help="a server started elsewhere (ws://host:port), e.g. the Procfile's web")
    parser.add_argument("--server-pid", type=int, help="that server's pid (for its CPU seconds)")
    parser.add_argument(
        "--client",
        choices=("raw", "websockets"),
        default="raw",
        help="viewer client: lean by hand, or the websockets package",
    )
    parser.add_argument("--no-limit", action="store_true", help="skip the limit run (limit_server.py)")
    parser.add_argument("--profile", help="py-spy raw samples of the server while the sender posts, to this file")
    args = parser.parse_args()
    raise_fd_limit()
    cookie, readers = prepare(args.viewers if args.url else 0)
    identities = [
        {"Cookie": f"sessionid={key}", "X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"}
        for i, key in enumerate(readers, start=1)
    ]
    run = partial(
        measure,
        cookie=cookie,
        identities=identities,
        viewers=args.viewers,
        rate=args.rate,
        seconds=args.seconds,
        clients=args.clients,
        client=args.client,
    )
    limit = None
    if not args.no_limit:  # first, on this machine, whatever serves the app
        port = free_port()
        server = start_limit(port)
        try:
            limit = run(f"ws://127.0.0.1:{port}/ws/rooms/{ROOM}/chat/", server.pid)
        finally:
            stop(server)
    if args.url:
        server = None
        url = f"{args.url.rstrip('/')}/ws/rooms/{ROOM}/chat/"
    else:
        port = free_port()
        server = start_server(port, args.workers, args.baseline)
        url = f"ws://127.0.0.1:{port}/ws/rooms/{ROOM}/chat/"
    try:
        app = run(url, server.pid if server else args.server_pid, profile=args.profile)
    finally:
        if server is not None:
            stop(server)
    report = {
        "mode": "channels group_send baseline" if args.baseline else "per-room publish + in-process fan-out",
        "viewers": args.viewers,
        "rate": args.rate,
        "seconds": args.seconds,
        "server": args.url or f"uvicorn --workers {args.workers} --ws {ws_option()}",
        "client": args.client,
        **app,
    }
    if limit is not None:
        report["limit"] = {"server": "limit_server.py: asyncio on uvloop, 1 process, no Django"} | {
            key: limit[key] for key in LIMIT_FIGURES
        }
        report["p99_ratio_app_over_limit"] = ratio(app["p99_ms"], limit["p99_ms"])
        cpu = "server_cpu_us_per_delivery"
        report["cpu_ratio_app_over_limit"] = ratio(app[cpu], limit[cpu])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
