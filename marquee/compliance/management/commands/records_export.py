from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from marquee.compliance import exports, selectors


class Command(BaseCommand):
    help = "Export 2257 records (index.json + decrypted ID images) as a ZIP for a legal request."

    def add_arguments(self, parser):
        parser.add_argument("--custodian", required=True, help="E-mail of the custodian of records running the export.")
        parser.add_argument("--legal-name", default="", help="Only records whose legal name contains this.")
        parser.add_argument("--out", required=True, help="Where to write the ZIP.")

    def handle(self, *args, custodian, legal_name, out, **options):
        user = get_user_model().objects.filter(email__iexact=custodian).first()
        if user is None or not selectors.may_view_id_documents(user):
            raise CommandError(f"{custodian} is not a custodian of records (permission compliance.view_id_documents).")
        records = selectors.records_for_export(legal_name=legal_name)
        data = exports.export_records_zip(records=records, actor=user)
        Path(out).write_bytes(data)
        Path(out).chmod(0o600)
        self.stdout.write(f"wrote {records.count()} record(s) to {out}")
