from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from marquee.privacy.policy import render_markdown


class Command(BaseCommand):
    help = "Render docs/privacy.md from the privacy categories and retention settings."

    def add_arguments(self, parser):
        parser.add_argument("--stdout", action="store_true", help="Print instead of writing the file.")

    def handle(self, *args, **options):
        text = render_markdown()
        if options["stdout"]:
            self.stdout.write(text, ending="")
            return
        path = Path(settings.BASE_DIR) / "docs" / "privacy.md"
        path.write_text(text)
        self.stdout.write(self.style.SUCCESS(f"wrote {path}"))
