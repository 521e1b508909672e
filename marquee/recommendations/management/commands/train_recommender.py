from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from marquee.recommendations import tracking, training


class Command(BaseCommand):
    help = "Train the recommender on all interactions and publish a new model version."

    def handle(self, *args, **options):
        started = time.perf_counter()
        with tqdm(total=4, desc="recommender", unit="step", file=self.stderr._out) as bar:

            def progress(label: str) -> None:
                bar.set_postfix_str(label)
                bar.update(1)

            progress(f"flushed {tracking.flush()} buffered interactions")
            artifacts = training.train(progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Model {artifacts.version}: {len(artifacts.item_ids)} performers, "
                f"{artifacts.params.factors} factors, {time.perf_counter() - started:.1f}s."
            )
        )
