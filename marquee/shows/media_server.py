"""The project's own nginx(-rtmp) config, rendered from settings into the
media var folder (never /etc/nginx), and the command line that runs it in
the foreground."""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from marquee.shows import ladder as abr
from marquee.shows.recorder import RECORDER

MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules")
RTMP_MODULE = "ngx_rtmp_module.so"
# The RTMP access log never records $args: the stream key travels there.
RTMP_LOG_FORMAT = (
    '\'$remote_addr [$time_local] $command "$app" "$name" $bytes_received $bytes_sent ($session_readable_time)\''
)
# Playback paths: /v/<viewer>/<show>/<expires>/<sig>/<stream>/[<rendition>/]<file>
# (see shows.playback): the master playlist, then each rung's playlist and
# segments one folder down, all under the one signed prefix.
PLAYBACK_LOCATION = (
    r'"^/v/(?<viewer>[A-Za-z0-9]+)/(?<show>p?[0-9]+)/(?<expires>[0-9]+)/(?<sig>[A-Za-z0-9_-]+)/(?<stream>[^/]+)/'
    r'(?<file>(?:[^/.][^/]*/)?[A-Za-z0-9_-]+\.(?:m3u8|ts))$"'
)


def find_rtmp_module() -> str:
    for folder in MODULE_DIRS:
        candidate = Path(folder) / RTMP_MODULE
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError(f"{RTMP_MODULE} not found in {', '.join(MODULE_DIRS)}: install libnginx-mod-rtmp")


@dataclass
class MediaConfig:
    var_dir: Path = field(default_factory=lambda: Path(settings.MEDIA_VAR_DIR))
    rtmp_bind: str = field(default_factory=lambda: settings.MEDIA_RTMP_BIND)
    rtmp_port: int = field(default_factory=lambda: settings.RTMP_PORT)
    http_bind: str = field(default_factory=lambda: settings.MEDIA_HTTP_BIND)
    http_port: int = field(default_factory=lambda: settings.MEDIA_HTTP_PORT)
    hook_base_url: str = field(default_factory=lambda: settings.MEDIA_HOOK_BASE_URL)
    hook_secret: str = field(default_factory=lambda: settings.MEDIA_HOOK_SECRET)
    playback_secret: str = field(default_factory=lambda: settings.MEDIA_PLAYBACK_SECRET)
    update_interval: int = field(default_factory=lambda: settings.MEDIA_UPDATE_INTERVAL)
    ladder: tuple[abr.Rung, ...] = field(default_factory=lambda: settings.MEDIA_LADDER)
    source_bandwidth: int = field(default_factory=lambda: settings.MEDIA_SOURCE_BANDWIDTH)
    ffmpeg: str = field(default_factory=lambda: settings.FFMPEG_BINARY)
    fragment_ms: int = field(default_factory=lambda: settings.MEDIA_HLS_FRAGMENT_MS)
    # Extra server blocks (the playback benchmark adds an unprotected one).
    extra_http: str = ""

    @property
    def hls_dir(self) -> Path:
        return self.var_dir / "hls"

    @property
    def conf_path(self) -> Path:
        return self.var_dir / "nginx.conf"

    def hook(self, event: str) -> str:
        return f"{self.hook_base_url}/media/hooks/{event}/?token={self.hook_secret}"


def _quoted(value: str) -> str:
    if any(ch in value for ch in "\"'\\;{}\n"):
        raise ValueError("media secrets and paths must not contain quotes, backslashes, ';', braces or newlines")
    return f'"{value}"'


def _transcoder(config: MediaConfig) -> str:
    """The exec line: one ffmpeg per published stream reads it back from
    ``live`` and pushes every rung to ``hls`` as ``<stream><suffix>``."""
    local = f"rtmp://127.0.0.1:{config.rtmp_port}"
    args = abr.transcode_args(
        config.ladder,
        source=f"{local}/live/${{name}}",
        target=f"{local}/hls/${{name}}",
        fragment_seconds=config.fragment_ms / 1000,
    )
    return " ".join([shutil.which(config.ffmpeg) or config.ffmpeg, *args])


def _variants(config: MediaConfig) -> str:
    lines = []
    for rung in config.ladder:
        params = f"BANDWIDTH={rung.bandwidth(config.source_bandwidth)}"
        if rung.height:
            params += f",RESOLUTION={rung.width}x{rung.height}"
        lines.append(f"            hls_variant {rung.suffix} {params};")
    return "\n".join(lines)


def render_config(config: MediaConfig) -> str:
    var = config.var_dir.resolve()
    hls = config.hls_dir.resolve()
    user_line = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {name}_temp_path {var}/temp/{name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Rendered by marquee.shows.media_server from the Django settings; do not edit.
load_module {find_rtmp_module()};
{user_line}
daemon off;
master_process on;
# One worker: nginx-rtmp keeps live streams in the worker that receives them.
worker_processes 1;
pid {var}/nginx.pid;
error_log stderr warn;

events {{
    worker_connections 4096;
}}

rtmp {{
    log_format no_args {RTMP_LOG_FORMAT};
    access_log {var}/logs/rtmp-access.log no_args;
    server {{
        listen {config.rtmp_bind}:{config.rtmp_port};
        chunk_size 4096;
        notify_method post;
        application live {{
            live on;
            record off;
            # Viewers only get signed HLS; RTMP playback is for local tools.
            allow play 127.0.0.1;
            deny play all;
            drop_idle_publisher 10s;
            idle_streams off;
            # The adaptive ladder (settings.MEDIA_LADDER); killed when the publish ends.
            exec {_transcoder(config)};
            exec_kill_signal term;
            on_publish {config.hook("publish")};
            on_update {config.hook("update")};
            on_publish_done {config.hook("publish_done")};
            notify_update_timeout {config.update_interval}s;
            # Private-show recordings (shows.recorder starts and stops it per
            # session): the performer's stream as published; cam2cam never
            # passes through RTMP, so it cannot be recorded.
            recorder {RECORDER} {{
                record all manual;
                record_path {var}/recordings;
                record_unique on;
                record_notify off;
            }}
        }}
        # Renditions from the transcoder only (loopback); the master playlist
        # <stream>.m3u8 lists <stream>_<rung>/index.m3u8 with bandwidth and size.
        application hls {{
            live on;
            record off;
            allow publish 127.0.0.1;
            deny publish all;
            allow play 127.0.0.1;
            deny play all;
            idle_streams off;
            hls on;
            hls_path {hls};
            hls_nested on;
            hls_fragment {config.fragment_ms}ms;
            hls_playlist_length 4s;
            hls_cleanup on;
{_variants(config)}
        }}
    }}
}}

http {{
    access_log {var}/logs/http-access.log;
{temp}
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    server_tokens off;
    # No open_file_cache: nginx-rtmp replaces the playlist by rename every
    # second, and cached descriptors would serve the old one for a minute.
    # Playlists change every second (shared caches may keep one for 1 s);
    # segments never change once listed.
    map $file $hls_cache_control {{
        ~\\.m3u8$ "max-age=0, s-maxage=1";
        default "max-age=60";
    }}

    server {{
        listen {config.http_bind}:{config.http_port};

        location ~ {PLAYBACK_LOCATION} {{
            secure_link $sig,$expires;
            secure_link_md5 {_quoted("$expires:$viewer:$show:$stream:" + config.playback_secret)};
            # "" = forged or malformed, "0" = expired: both refused alike.
            if ($secure_link = "") {{ return 403; }}
            if ($secure_link = "0") {{ return 403; }}
            add_header Access-Control-Allow-Origin * always;
            add_header Cache-Control $hls_cache_control always;
            # A playlist rewritten within the same second keeps its mtime (and
            # often its size): validators would answer 304 with a stale list.
            etag off;
            if_modified_since off;
            # live/<show> links to the stream's folder only while that show
            # is live: a URL of an earlier show finds nothing.
            alias {var}/live/$show/$file;
        }}

        # rtmp_control for shows.recorder: loopback callers with the hook
        # secret only (a local reverse proxy would pass the address check).
        location /control/ {{
            allow 127.0.0.1;
            allow ::1;
            deny all;
            if ($http_x_media_token != {_quoted(config.hook_secret)}) {{ return 403; }}
            rtmp_control all;
        }}

        # Anything without a valid token is refused the same way.
        location / {{
            return 403;
        }}
    }}
{config.extra_http}
}}
"""


def write_config(config: MediaConfig) -> Path:
    for sub in ("logs", "temp", "hls", "live", "recordings"):
        (config.var_dir / sub).mkdir(parents=True, exist_ok=True)
    config.conf_path.write_text(render_config(config))
    # It holds the hook and playback secrets.
    config.conf_path.chmod(0o600)
    return config.conf_path


def nginx_command(config: MediaConfig) -> list[str]:
    return [
        settings.NGINX_BINARY,
        "-e",
        "stderr",
        "-p",
        str(config.var_dir.resolve()),
        "-c",
        str(config.conf_path.resolve()),
    ]
