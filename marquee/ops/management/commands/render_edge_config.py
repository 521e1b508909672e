from pathlib import Path

from django.core.management.base import BaseCommand

from marquee.ops.edge import EdgeConfig, write_edge_config


class Command(BaseCommand):
    help = "Write an HLS edge's nginx config (same signed-URL check as the origin) and print its path."

    def add_arguments(self, parser):
        parser.add_argument("--origin", action="append", required=True, help="host:port of an HLS origin (repeat)")
        parser.add_argument("--var-dir", required=True, type=Path)
        parser.add_argument("--bind", default="0.0.0.0")  # noqa: S104 - an edge serves the network
        parser.add_argument("--port", type=int, default=8082)
        parser.add_argument("--cache-size", default="1g")

    def handle(self, *args, **options):
        config = EdgeConfig(
            origins=options["origin"],
            var_dir=options["var_dir"],
            bind=options["bind"],
            port=options["port"],
            cache_size=options["cache_size"],
        )
        self.stdout.write(str(write_edge_config(config)))
