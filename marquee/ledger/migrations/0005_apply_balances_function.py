from django.db import migrations

# PostgreSQL only: a transfer's conditional balance updates and its entries in
# ONE round trip (ledger.services.Posting.apply).  The accounts come in the
# global lock order (holding accounts by id, then the platform's by id) and
# are updated in that order, one UPDATE each, so concurrent transfers still
# never wait in a cycle.  Returns the id of the first account that cannot pay
# (its available balance, balance - held, would go negative) — the entries
# are then not written and the caller raises — or 0 once the entries (in the
# transfer's movement order) are inserted.  The CHECK constraints and the
# deferred "entries sum to zero" trigger stay the backstop.  SQLite runs the
# same statements one by one from Python.
CREATE = """
CREATE OR REPLACE FUNCTION ledger_apply_transfer(
    transfer bigint, ids bigint[], deltas bigint[], entry_ids bigint[], entry_units varchar[], at timestamptz
) RETURNS bigint AS $$
BEGIN
    FOR i IN 1..coalesce(array_length(ids, 1), 0) LOOP
        UPDATE ledger_account SET balance = balance + deltas[i]
            WHERE id = ids[i] AND (deltas[i] >= 0 OR allow_negative OR balance + deltas[i] >= held);
        IF NOT FOUND THEN
            RETURN ids[i];
        END IF;
    END LOOP;
    INSERT INTO ledger_entry (transfer_id, account_id, amount, unit, created_at)
        SELECT transfer, e.account, d.amount, e.unit, at
        FROM unnest(entry_ids, entry_units) WITH ORDINALITY AS e(account, unit, n)
        JOIN unnest(ids, deltas) AS d(account, amount) ON d.account = e.account
        ORDER BY e.n;
    RETURN 0;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
DROP = "DROP FUNCTION IF EXISTS ledger_apply_transfer(bigint, bigint[], bigint[], bigint[], varchar[], timestamptz);"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_forfeited_tokens")]
    operations = [migrations.RunPython(forwards, backwards)]
