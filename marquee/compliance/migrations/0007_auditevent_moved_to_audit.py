# AuditEvent now belongs to the audit app (audit 0001): state only, the table
# stays where it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0006_audit_claim_chain_function"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
            database_operations=[],
        ),
    ]
