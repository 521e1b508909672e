from django.db import migrations

# PostgreSQL only: the audit log refuses UPDATE and DELETE.  (TRUNCATE stays
# possible for the test suite's flush; only the database owner can run it.)
# On SQLite the hash chain still makes any edit detectable (audit_verify).
CREATE = """
CREATE OR REPLACE FUNCTION compliance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'compliance_auditevent is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER compliance_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON compliance_auditevent
    FOR EACH ROW EXECUTE FUNCTION compliance_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS compliance_auditevent_no_update_delete ON compliance_auditevent;
DROP FUNCTION IF EXISTS compliance_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
