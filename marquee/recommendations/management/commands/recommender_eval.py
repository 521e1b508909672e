from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from marquee.recommendations import evaluation, training


class Command(BaseCommand):
    help = (
        "Offline evaluation on a CSV with a header row and columns user,item,timestamp[,weight]: "
        "leave-last-out per user; prints precision/recall/NDCG@10 for the platform model and popularity. "
        "Reads only the file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interactions", required=True, help="Path to the CSV file")
        parser.add_argument("--k", type=int, default=10)

    def handle(self, *args, **options):
        if options["k"] < 1:
            raise CommandError("--k must be at least 1.")
        try:
            with open(options["interactions"], encoding="utf-8", errors="replace", newline="") as stream:
                data = evaluation.read_interactions(stream)
            split = evaluation.leave_last_out(data)
        except OSError as exc:
            raise CommandError(f"Cannot read {options['interactions']}: {exc.strerror or exc}")
        except evaluation.EvaluationError as exc:
            raise CommandError(str(exc))
        skipped = ", ".join(f"{reason}={count}" for reason, count in data.skipped.items()) or "none"
        self.stderr.write(
            f"{len(data.users)} users, {len(data.items)} items, {split.train.nnz} training pairs, "
            f"{len(split.test_users)} users evaluated; skipped rows: {skipped}"
        )
        if len(split.test_users) == 0:
            raise CommandError("No user has two or more distinct items: nothing to evaluate.")
        params = training.als_params().sized_for(len(data.items), split.train.nnz)
        for result in evaluation.evaluate(split, params, k=options["k"], model_name="als"):
            self.stdout.write(result.line(options["k"]))
