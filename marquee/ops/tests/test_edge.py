"""An HLS edge checks the same signed URLs as the origin before its cache:
a cached segment is never served to an invalid URL, and all valid viewers
share one cached copy."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from marquee.ops.edge import EdgeConfig, write_edge_config
from marquee.shows.playback import playback_path

pytestmark = [
    pytest.mark.media,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed"),
]
SECRET = "edge-test-playback-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def origin():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"#EXTM3U\n" if self.path.endswith(".m3u8") else b"\x47" * 188
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.fixture
def edge(origin, tmp_path, settings):
    settings.MEDIA_PLAYBACK_SECRET = SECRET
    port = free_port()
    conf = write_edge_config(EdgeConfig(origins=[origin[0]], var_dir=tmp_path, port=port))
    assert subprocess.run(["nginx", "-t", "-q", "-c", str(conf)], capture_output=True).returncode == 0
    proc = subprocess.Popen(["nginx", "-c", str(conf)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            httpx.get(base + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield base, origin[1]
    proc.terminate()
    proc.wait(timeout=10)


def test_valid_urls_share_one_cached_copy_and_invalid_ones_never_see_it(edge):
    base, hits = edge
    soon = int(time.time()) + 300
    alice = playback_path(viewer="alice", show=7, stream="perf", expires=soon, file="seg-1.ts")
    bob = playback_path(viewer="bob", show=7, stream="perf", expires=soon, file="seg-1.ts")
    first = httpx.get(base + alice)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    second = httpx.get(base + bob)
    assert second.status_code == 200 and second.headers["X-Cache"] == "HIT"
    assert second.content == first.content
    assert len(hits) == 1
    # The same cached segment, asked for with a forged, expired, or another
    # show's signature, or no token at all: refused before the cache.
    forged = alice.replace(alice.split("/")[5], "A" * 22)
    expired = playback_path(viewer="alice", show=7, stream="perf", expires=int(time.time()) - 1, file="seg-1.ts")
    other_show = playback_path(viewer="alice", show=8, stream="perf", expires=soon, file="seg-1.ts").replace(
        "/8/", "/7/", 1
    )
    for path in (forged, expired, other_show, "/perf/seg-1.ts"):
        response = httpx.get(base + path)
        assert response.status_code == 403, path
        assert response.content != first.content
    assert len(hits) == 1


def test_signed_with_another_secret_is_refused(edge, settings):
    base, hits = edge
    settings.MEDIA_PLAYBACK_SECRET = "not-the-edge-secret"
    path = playback_path(viewer="alice", show=7, stream="perf", expires=int(time.time()) + 300, file="index.m3u8")
    assert httpx.get(base + path).status_code == 403
    assert hits == []
