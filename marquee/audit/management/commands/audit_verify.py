from django.core.management.base import BaseCommand, CommandError

from marquee.audit.chain import verify_chain
from marquee.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Check the whole audit hash chain; exit non-zero naming the first bad row."

    def handle(self, *args, **options):
        events = AuditEvent.objects.order_by("chain", "sequence").iterator(chunk_size=5000)
        ok, bad, why = verify_chain(events)
        if not ok:
            raise CommandError(
                f"audit chain broken at row id={bad.pk} chain={bad.chain} sequence={bad.sequence} ({bad.action}): {why}"
            )
        count = AuditEvent.objects.count()
        self.stdout.write(self.style.SUCCESS(f"audit chain OK: {count} rows"))
