"""Render the nginx(-rtmp) config from settings and run nginx in the foreground."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand

from marquee.shows import services
from marquee.shows.media_server import MediaConfig, nginx_command, write_config


class Command(BaseCommand):
    help = "Run the media server (nginx + RTMP + signed HLS) with a config rendered into var/."

    def add_arguments(self, parser):
        parser.add_argument("--render-only", action="store_true", help="Write the config and print its path.")

    def handle(self, *args, render_only=False, **options):
        config = MediaConfig()
        path = write_config(config)
        if render_only:
            self.stdout.write(str(path))
            return
        # A fresh nginx has no publishers: shows left live by a crash end now.
        ended = services.end_orphaned_shows()
        if ended:
            self.stdout.write(f"ended {ended} show(s) left live by a previous media server")
        self.stdout.write(
            f"media: RTMP {config.rtmp_bind}:{config.rtmp_port}, HLS http://{config.http_bind}:{config.http_port}"
        )
        command = nginx_command(config)
        # exec: honcho's Ctrl-C reaches nginx itself.
        os.execvp(command[0], command)  # noqa: S606 (fixed argv from settings, no shell)
