from django.core.management.base import BaseCommand, CommandError

from marquee.ledger.selectors import check_invariants


class Command(BaseCommand):
    help = "Verify every ledger invariant; exits non-zero with a report when one is broken."

    def handle(self, *args, **options):
        report = check_invariants()
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"ledger_check: {len(report.problems)} problem(s)")
        self.stdout.write(f"ledger_check: OK ({report.transfers} transfers, {report.accounts} accounts)")
