from django.db import migrations

# PostgreSQL only: append one audit row in ONE round trip.  Claims a chain
# with compliance_audit_claim_chain() (lock + last row, unchanged), then
# computes the new row's sequence, prev_hash and entry_hash in SQL and
# inserts it.  The hash is sha256 over exactly the text
# marquee.audit.chain.canonical_content() builds: Python sends that text
# split around the three fields only the database knows here
# (chain.canonical_split), and this function fills them in.  audit_verify
# re-computes every hash in Python; a test compares the two on the same rows.
CREATE = """
CREATE OR REPLACE FUNCTION audit_append(
    lock_base bigint, chains integer, start integer, genesis varchar,
    head text, mid text, tail text,
    p_created_at timestamptz, p_actor_id bigint, p_actor_label varchar, p_action varchar, p_ip varchar,
    p_ip_salt varchar, p_ip_digest varchar, p_user_agent varchar, p_target_type varchar, p_target_id varchar,
    p_details jsonb
) RETURNS TABLE (new_id bigint, new_chain integer, new_sequence bigint, new_prev_hash varchar, new_hash varchar) AS $$
DECLARE
    last_sequence bigint;
    last_hash varchar;
BEGIN
    SELECT c.chain, c.last_sequence, c.last_hash INTO new_chain, last_sequence, last_hash
        FROM compliance_audit_claim_chain(lock_base, chains, start) c;
    new_sequence := COALESCE(last_sequence, 0) + 1;
    new_prev_hash := COALESCE(last_hash, genesis);
    new_hash := encode(sha256(convert_to(
        head
        || CASE WHEN new_chain = 0 THEN '' ELSE ',"chain":' || new_chain::text END
        || mid || '"' || new_prev_hash || '","sequence":' || new_sequence::text
        || tail, 'UTF8')), 'hex');
    INSERT INTO compliance_auditevent AS e (chain, sequence, created_at, actor_id, actor_label, action, ip, ip_salt,
            ip_digest, user_agent, target_type, target_id, details, prev_hash, entry_hash)
        VALUES (new_chain, new_sequence, p_created_at, p_actor_id, p_actor_label, p_action, p_ip, p_ip_salt,
            p_ip_digest, p_user_agent, p_target_type, p_target_id, p_details, new_prev_hash, new_hash)
        RETURNING e.id INTO new_id;
    RETURN NEXT;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
DROP = (
    "DROP FUNCTION IF EXISTS audit_append(bigint, integer, integer, varchar, text, text, text, timestamptz, bigint,"
    " varchar, varchar, varchar, varchar, varchar, varchar, varchar, varchar, jsonb);"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_ip_digest")]
    operations = [migrations.RunPython(forwards, backwards)]
