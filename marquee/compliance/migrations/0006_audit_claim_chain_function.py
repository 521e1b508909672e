from django.db import migrations

# PostgreSQL only: lock a free audit chain and read its last row in ONE round
# trip.  Each statement inside a VOLATILE plpgsql function takes a fresh
# snapshot (READ COMMITTED), so the SELECT runs after the lock is granted and
# sees the previous holder's committed row.
CREATE = """
CREATE OR REPLACE FUNCTION compliance_audit_claim_chain(lock_base bigint, chains integer, start integer)
RETURNS TABLE (chain integer, last_sequence bigint, last_hash varchar) AS $$
DECLARE
    candidate integer;
BEGIN
    chain := NULL;
    FOR i IN 0..chains - 1 LOOP
        candidate := (start + i) % chains;
        IF pg_try_advisory_xact_lock(lock_base + candidate) THEN
            chain := candidate;
            EXIT;
        END IF;
    END LOOP;
    IF chain IS NULL THEN
        PERFORM pg_advisory_xact_lock(lock_base + start);
        chain := start;
    END IF;
    SELECT e.sequence, e.entry_hash INTO last_sequence, last_hash
        FROM compliance_auditevent e WHERE e.chain = compliance_audit_claim_chain.chain
        ORDER BY e.sequence DESC LIMIT 1;
    RETURN NEXT;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
DROP = "DROP FUNCTION IF EXISTS compliance_audit_claim_chain(bigint, integer, integer);"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0005_audit_chains")]
    operations = [migrations.RunPython(forwards, backwards)]
