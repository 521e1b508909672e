"""Glass-to-glass latency measured in the real player, in Chromium.

ffmpeg publishes the demo test pattern (``shows.publisher``) with the wall
clock burned in twice: as text for humans and as a strip of 20 black/white
cells along the top (the centiseconds of the UTC day, bit by bit) for a
machine.  The clock is ``pts + offset`` with offset = the wall time just
before ffmpeg starts, so the drawn clock can only run behind reality: the
figure is an upper bound.  The project's nginx (rendered by
``shows.media_server``, hooks answered by a stub) packages HLS; the page is
the room player's own markup and ``marquee/static/js/player.js`` (hls.js,
its live-sync settings) against a stub room API that hands it a signed URL
(``shows.playback``).  Every ~250 ms Playwright screenshots the <video>
element; glass-to-glass = the middle of the screenshot call - the clock read
from the strip.  No model of where the player sits: this is where it sits.

Why screenshots and not ``hls.playingDate``: nginx-rtmp writes no
EXT-X-PROGRAM-DATE-TIME, and the screenshot also counts decode and paint.

Usage: .venv/bin/python bench/latency/run.py   (BENCH_SECONDS=30, BENCH_RUNG=source)
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


from bench.support import media_server, sample_clock  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))


ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
PAGE = """<!doctype html><meta charset="utf-8"><title>latency</title>
<style>body{margin:0;background:#000} video{width:640px;height:360px;display:block}
[data-player-quality]{position:absolute;left:660px;top:10px}</style>
<div data-player data-room="bench" data-room-api="/api/room">
  <video data-player-video muted playsinline autoplay></video>
  <div data-player-offline hidden></div><div data-player-denied hidden></div>
  <div data-paywall hidden></div>
</div>
<script type="module" src="/static/js/player.js"></script>
"""


# The player's modules, served as the site serves them.
PLAYER_FILES = {
    "/static/js/player.js": ROOT / "marquee/static/js/player.js",
    "/static/js/signaling.js": ROOT / "marquee/static/js/signaling.js",
    "/static/js/csrf.js": ROOT / "marquee/static/js/csrf.js",
    "/static/vendor/hls.min.mjs": ROOT / "marquee/static/vendor/hls.min.mjs",
}


def page_server(state: dict) -> http.server.ThreadingHTTPServer:
    """The player page, player.js and hls.js from the project, and a stub room API."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/":
                body, kind = PAGE.encode(), "text/html"
            elif path == "/api/room":
                body, kind = json.dumps(state).encode(), "application/json"
            elif path in PLAYER_FILES:
                body, kind = PLAYER_FILES[path].read_bytes(), "text/javascript"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    from playwright.sync_api import sync_playwright

    samples, requests = [], []
    rung = os.environ.get("BENCH_RUNG", "source")
    with media_server("bench-latency-") as media:
        pages = page_server({"is_live": True, "playback_url": media.playback_url, "playback_expires_at": media.expires})
        load_before = os.getloadavg()[0]
        try:
            time.sleep(4)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=CHROMIUM_ARGS,
                )
                page = browser.new_page(viewport={"width": 900, "height": 400})
                page.on("request", lambda r: requests.append((time.time(), r.url)) if "/v/" in r.url else None)
                page.goto(f"http://127.0.0.1:{pages.server_port}/")
                video = page.locator("video")
                quality = page.locator("[data-player-quality]")
                quality.wait_for(state="visible", timeout=30000)
                quality.select_option(label="Source" if rung == "source" else rung)
                time.sleep(6)  # let hls.js settle at its live-sync point
                first_request = len(requests)
                started = time.time()
                samples = sample_clock(video, SECONDS)
                watched = time.time() - started
                browser.close()
        finally:
            pages.shutdown()
    load_after = os.getloadavg()[0]
    window = [u for t, u in requests[first_request:]]
    playlists = sum(u.endswith(".m3u8") for u in window)
    segments = sum(u.endswith(".ts") for u in window)
    print(
        f"{len(samples)} screenshots over {watched:.0f} s, rung {rung}; "
        f"load average {load_before:.2f} -> {load_after:.2f}"
    )
    print(
        f"glass-to-glass in Chromium: median {statistics.median(samples):.2f} s, "
        f"p10 {samples[len(samples) // 10]:.2f} s, p90 {samples[len(samples) * 9 // 10]:.2f} s"
    )
    print(f"requests per viewer: {playlists / watched:.2f} playlists/s + {segments / watched:.2f} segments/s")


if __name__ == "__main__":
    main()
