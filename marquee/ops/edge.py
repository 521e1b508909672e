"""nginx config of an HLS caching edge: the same ``secure_link`` check as the
origin (``marquee.shows.media_server``: same location pattern, same signed
string, same secret), checked on every request before the cache is consulted,
so a cached segment is never served to a URL that is not valid; the cache key
leaves the token out, so all viewers share one copy of each segment."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from marquee.shows.media_server import PLAYBACK_LOCATION, _quoted

PLAYLIST_LOCATION = PLAYBACK_LOCATION.replace(r"(?:m3u8|ts)", "m3u8")
SEGMENT_LOCATION = PLAYBACK_LOCATION.replace(r"(?:m3u8|ts)", "ts")


@dataclass
class EdgeConfig:
    origins: list[str]  # host:port of HLS origins (the media servers' http port)
    var_dir: Path
    bind: str = "127.0.0.1"
    port: int = 8082
    cache_size: str = "1g"
    playback_secret: str = ""

    def __post_init__(self):
        self.playback_secret = self.playback_secret or settings.MEDIA_PLAYBACK_SECRET
        if not self.origins:
            raise ValueError("an edge needs at least one origin")


def _location(pattern: str, valid: str, config: EdgeConfig) -> str:
    return f"""
        location ~ {pattern} {{
            secure_link $sig,$expires;
            secure_link_md5 {_quoted("$expires:$viewer:$show:$stream:" + config.playback_secret)};
            if ($secure_link = "") {{ return 403; }}
            if ($secure_link = "0") {{ return 403; }}
            proxy_pass http://hls_origins;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache hls;
            proxy_cache_key $show/$stream/$file;
            proxy_cache_valid 200 {valid};
            proxy_cache_lock on;
            proxy_cache_use_stale updating;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            add_header X-Cache $upstream_cache_status always;
        }}"""


def render_edge_config(config: EdgeConfig) -> str:
    var = config.var_dir.resolve()
    user_line = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {var}/temp/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    playlists = _location(PLAYLIST_LOCATION, "1s", config)
    segments = _location(SEGMENT_LOCATION, "60s", config)
    servers = "\n".join(f"        server {_quoted(o)[1:-1]} max_fails=1 fail_timeout=2s;" for o in config.origins)
    return f"""# Rendered by marquee.ops.edge (manage.py render_edge_config); do not edit.
{user_line}
daemon off;
worker_processes auto;
pid {var}/edge.pid;
error_log stderr warn;

events {{
    worker_connections 4096;
}}

http {{
{temp}
    access_log off;
    server_tokens off;
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }}
    proxy_cache_path {var}/cache levels=1:2 keys_zone=hls:10m max_size={config.cache_size}
                     inactive=2m use_temp_path=off;
    upstream hls_origins {{
{servers}
        keepalive 32;
    }}

    server {{
        listen {config.bind}:{config.port};
        location = /healthz {{ return 200 "ok\\n"; }}
        # Playlists change every second: one origin fetch per second per edge.{playlists}
        # Segments never change once listed.{segments}
        location / {{
            return 403;
        }}
    }}
}}
"""


def write_edge_config(config: EdgeConfig) -> Path:
    for sub in ("temp/client_body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi", "cache"):
        (config.var_dir / sub).mkdir(parents=True, exist_ok=True)
    path = config.var_dir / "edge.conf"
    path.write_text(render_edge_config(config))
    return path
