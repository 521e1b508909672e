from django.db import migrations

# PostgreSQL only: transfers and entries are append-only, and at commit every
# transfer's entries must sum to zero per unit (a deferred constraint trigger,
# so the entries of one transfer may be inserted one by one).  TRUNCATE stays
# possible for the test suite's flush.  ledger_check verifies the same on SQLite.
CREATE = """
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_transfer_no_update_delete
    BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_entry_no_update_delete
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE OR REPLACE FUNCTION ledger_entries_balance() RETURNS trigger AS $$
DECLARE
    bad RECORD;
BEGIN
    SELECT unit, SUM(amount) AS total INTO bad FROM ledger_entry
        WHERE transfer_id = NEW.transfer_id GROUP BY unit HAVING SUM(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '23514',
            MESSAGE = 'ledger transfer ' || NEW.transfer_id || ' entries in ' || bad.unit || ' sum to ' || bad.total;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER ledger_entry_sums_to_zero
    AFTER INSERT ON ledger_entry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_balance();
"""
DROP = """
DROP TRIGGER IF EXISTS ledger_entry_sums_to_zero ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entries_balance();
DROP TRIGGER IF EXISTS ledger_entry_no_update_delete ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_transfer_no_update_delete ON ledger_transfer;
DROP FUNCTION IF EXISTS ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
