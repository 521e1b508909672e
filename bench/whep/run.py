"""Glass-to-glass of a private show over WebRTC (WHEP) against HLS, in the
real player, in Chromium, in the same run.

As ``bench/latency``: ffmpeg publishes the test pattern with the UTC clock
burned in as a strip of black/white cells (``shows.publisher``) to the
project's nginx-rtmp (config from ``shows.media_server``, hooks answered by a
stub); the page is the room player's markup and
``marquee/static/js/player.js`` against a stub room API.  Phase 1: the state
has only the signed HLS URL (a spy's view).  Phase 2: it also has
``private.webrtc_url``, answered by ``shows.webrtc_egress`` (aiortc decoding
the RTMP stream, re-encoding per peer: the path a performer who went live by
OBS takes), so player.js switches to WebRTC once connected.  Every ~250 ms
Playwright screenshots the <video>; glass-to-glass = the middle of the
screenshot call - the clock read from the strip (an upper bound: the clock
is drawn no later than the frame is made).

Everything on loopback (ICE host candidates on 127.0.0.1 only).
Usage: .venv/bin/python bench/whep/run.py   (BENCH_SECONDS=20 per phase, BENCH_SIZE=640x360, BENCH_FPS=25)
"""

from __future__ import annotations

import http.server
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
import django

django.setup()

import aioice.ice  # noqa: E402

from bench.latency.run import CHROMIUM_ARGS as LATENCY_CHROMIUM_ARGS  # noqa: E402
from bench.latency.run import PAGE, PLAYER_FILES  # noqa: E402
from bench.support import media_server, sample_clock  # noqa: E402
from marquee.shows.publisher import pattern_latency, read_clock_pattern  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
# A smaller source keeps the publisher real-time on a loaded machine (its
# drawn clock falls behind when ffmpeg cannot keep up, which counts as latency).
SIZE = os.environ.get("BENCH_SIZE", "640x360")
FPS = int(os.environ.get("BENCH_FPS", "25"))
CHROMIUM_ARGS = [*LATENCY_CHROMIUM_ARGS, "--disable-features=WebRtcHideLocalIpsWithMdns"]
TRANSPORT = "document.querySelector('[data-player]').dataset.playerTransport || 'hls'"

# Loopback only: no ICE checks toward any other address.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def page_server(state: dict) -> http.server.ThreadingHTTPServer:
    """The player page and modules from the project, a stub room API, and a
    WHEP endpoint answered by the project's egress."""
    from marquee.shows.webrtc_egress import egress

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status, body=b"", kind="text/plain", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/":
                self._send(200, PAGE.encode(), "text/html")
            elif path == "/api/room":
                self._send(200, json.dumps(state).encode(), "application/json")
            elif path in PLAYER_FILES:
                self._send(200, PLAYER_FILES[path].read_bytes(), "text/javascript")
            else:
                self._send(404)

        def do_POST(self):
            offer = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            peer_id, answer = egress.watch(offer_sdp=offer, user_id=1, tag=1, stream="bench", performer_user_id=0)
            self._send(201, answer.encode(), "application/sdp", [("Location", f"/peer/{peer_id}")])

        def do_DELETE(self):
            egress.close(self.path.rsplit("/", 1)[-1])
            self._send(200)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sample(page, seconds: float) -> list[float]:
    return sample_clock(page.locator("video"), seconds)


def server_side(seconds: float) -> list[float]:
    """The clock read from frames the egress decodes from the RTMP stream
    (publisher + nginx-rtmp + decode: what both transports start from), on
    the relay loop, while the screenshots run.  The bench holds its own use
    of the shared decode, so the WebRTC peer joins the same one."""
    import asyncio

    from marquee.shows.webrtc_egress import egress
    from marquee.shows.whip_relay import relay as whip

    async def read():
        decode = egress._decodes.get("bench") or await egress._decode("bench")
        track = decode.fanout.subscribe(decode.player.video, buffered=False)
        samples = []
        deadline = time.time() + seconds
        while time.time() < deadline:
            frame = await track.recv()
            samples.append(pattern_latency(read_clock_pattern(frame.to_image()), time.time()))
            await asyncio.sleep(0.25)
        track.stop()
        return samples

    return sorted(whip._run(read(), seconds + 20))


def measure(page, seconds: float) -> tuple[list[float], list[float]]:
    """(glass-to-glass in the page, source lag in the server) over the same seconds."""
    source: list[float] = []
    reader = threading.Thread(target=lambda: source.extend(server_side(seconds)))
    reader.start()
    shots = sample(page, seconds)
    reader.join()
    return shots, source


def describe(name: str, samples: list[float]) -> str:
    return (
        f"{name}: median {statistics.median(samples):.2f} s, p10 {samples[len(samples) // 10]:.2f} s, "
        f"p90 {samples[len(samples) * 9 // 10]:.2f} s ({len(samples)} screenshots)"
    )


def main() -> None:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    from marquee.shows.webrtc_egress import egress
    from marquee.shows.whip_relay import relay

    with media_server("bench-whep-", size=SIZE, fps=FPS) as media:
        settings.MEDIA_WEBRTC_SOURCE_URL = f"rtmp://127.0.0.1:{media.config.rtmp_port}/live"
        state = {
            "is_live": True,
            "playback_url": media.playback_url,
            "playback_expires_at": media.expires,
            "private": None,
        }
        pages = page_server(state)
        load_before = os.getloadavg()[0]
        try:
            time.sleep(4)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                # Phase 1: HLS only (what spies get; the fallback).
                page = browser.new_page(viewport={"width": 900, "height": 400})
                page.goto(f"http://127.0.0.1:{pages.server_port}/")
                page.locator("[data-player-quality]").wait_for(state="visible", timeout=30000)
                page.locator("[data-player-quality]").select_option(label="Source")
                time.sleep(6)  # hls.js settles at its live-sync point
                hls, hls_source = measure(page, SECONDS)
                page.close()
                # Phase 2: the payer's state: WHEP offered, player.js switches once connected.
                state["private"] = {"id": 1, "webrtc_url": "/whep", "is_payer": True, "watching": True}
                page = browser.new_page(viewport={"width": 900, "height": 400})
                page.goto(f"http://127.0.0.1:{pages.server_port}/")
                deadline = time.time() + 30
                while page.evaluate(TRANSPORT) != "webrtc":
                    if time.time() > deadline:
                        raise SystemExit("the player never switched to WebRTC")
                    time.sleep(0.2)
                time.sleep(3)
                webrtc, webrtc_source = measure(page, SECONDS)
                browser.close()
        finally:
            egress.shutdown()
            relay.shutdown()
            # The bench's own use of the shared decode: stop its demux thread.
            for decode in list(egress._decodes.values()):
                for track in (decode.player.video, decode.player.audio):
                    if track is not None:
                        track.stop()
            pages.shutdown()
    load_after = os.getloadavg()[0]
    print(f"load average {load_before:.2f} -> {load_after:.2f}; {SECONDS:.0f} s per phase, source {SIZE} {FPS} fps")
    print(describe("HLS (player.js, hls.js)", hls))
    print(describe("  source lag meanwhile (clock in the server's decode of the RTMP stream)", hls_source))
    print(describe("WebRTC (WHEP, RTMP decode in aiortc)", webrtc))
    print(describe("  source lag meanwhile", webrtc_source))
    median = statistics.median
    # On a starved machine the publisher itself falls behind real time; what
    # each transport adds on top of the source is the comparable part.
    added_hls = median(hls) - median(hls_source)
    added_webrtc = median(webrtc) - median(webrtc_source)
    print(f"added after the RTMP ingest: HLS {added_hls:.2f} s, WebRTC {added_webrtc:.2f} s")
    goal = "met" if median(webrtc) < 1 else "NOT met"
    print(
        f"WebRTC / HLS (added): {added_webrtc / added_hls:.2f}; WebRTC / HLS (glass-to-glass): "
        f"{median(webrtc) / median(hls):.2f}; goal < 1 s glass-to-glass: {goal}"
    )


if __name__ == "__main__":
    main()
