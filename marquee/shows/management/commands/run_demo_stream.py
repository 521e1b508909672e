"""Publish the demo test pattern as performer1 (unless DEMO_STREAM=0)."""

from __future__ import annotations

import ipaddress
import re
import signal
import socket
import subprocess
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from marquee.shows.demo import DEMO_PERFORMER, demo_key_path
from marquee.shows.publisher import publish_command

KEY_ARG = re.compile(r"key=[^\s&]+")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


class Command(BaseCommand):
    help = "Publish an ffmpeg test pattern with a burned-in clock as the demo performer."

    def handle(self, *args, **options):
        if not settings.DEMO_STREAM:
            self.stdout.write("demo stream off (DEMO_STREAM=0)")
            # Stay up: the process manager stops everything when one exits.
            signal.pause()
            return
        try:
            secret = demo_key_path().read_text().strip()
        except FileNotFoundError:
            self.stderr.write("no demo stream key: run `manage.py seed_demo` first")
            signal.pause()
            return
        bind = settings.MEDIA_RTMP_BIND
        host = "127.0.0.1" if ipaddress.ip_address(bind).is_unspecified else bind
        url = f"rtmp://{host}:{settings.RTMP_PORT}/live/{DEMO_PERFORMER}?key={secret}"
        child: list[subprocess.Popen] = []

        def stop(signum, frame):
            for process in child:
                process.terminate()
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            while not _port_open(host, settings.RTMP_PORT):
                time.sleep(1)
            self.stdout.write(f"demo stream: publishing as {DEMO_PERFORMER}")
            # The URL (with the key) is passed to ffmpeg, never printed.
            child[:] = [subprocess.Popen(publish_command(url), stderr=subprocess.PIPE, text=True)]
            # ffmpeg names the URL in its errors: pass them on without the key.
            for line in child[0].stderr:
                self.stderr.write(KEY_ARG.sub("key=[hidden]", line.rstrip()))
            code = child[0].wait()
            self.stdout.write(f"demo stream: ffmpeg exited ({code}); retrying in 3 s")
            time.sleep(3)
