-- The physical limit of a tip on this machine: the same writes the tip
-- service makes, in raw SQL with prepared statements (pgbench -M prepared).
-- Per tip: conditional wallet debit, four credits (token supply and float
-- shards, the performer's pending earnings, platform fee shard), the transfer
-- row, five entries, the tip row, the live show's tip-goal counter (an
-- upsert, as billing.tip_goals does); one transaction, the ledger's deferred
-- "entries sum to zero" trigger checked at commit.  bench/tips/run.py fills
-- bench_tip_clients (one row per pgbench client) before running it.
\set tokens 1
BEGIN;
SELECT wallet_id, supply_id, float_id, pending_id, fees_id, user_id, performer_id, show_id, value, share, fee
  FROM bench_tip_clients WHERE client = :client_id \gset
UPDATE ledger_account SET balance = balance - :tokens WHERE id = :wallet_id AND balance >= :tokens;
UPDATE ledger_account SET balance = balance + :share WHERE id = :pending_id;
UPDATE ledger_account SET balance = balance + :tokens WHERE id = :supply_id;
UPDATE ledger_account SET balance = balance - :value WHERE id = :float_id;
UPDATE ledger_account SET balance = balance + :fee WHERE id = :fees_id;
INSERT INTO ledger_transfer (kind, idempotency_key, created_at, user_id, performer_id, source_type, source_id,
                             available_at, gross_cents, performer_cents, memo)
  VALUES ('tip', 'raw:' || gen_random_uuid(), now(), :user_id, :performer_id, 'billing.tip', '',
          now() + interval '7 days', :value, :share, '')
  RETURNING id AS transfer_id \gset
INSERT INTO ledger_entry (transfer_id, account_id, amount, unit, created_at) VALUES
  (:transfer_id, :wallet_id, -:tokens::bigint, 'tokens', now()),
  (:transfer_id, :supply_id, :tokens, 'tokens', now()),
  (:transfer_id, :float_id, -:value::bigint, 'cents', now()),
  (:transfer_id, :pending_id, :share, 'cents', now()),
  (:transfer_id, :fees_id, :fee, 'cents', now());
INSERT INTO billing_tip (user_id, performer_id, tokens, message, transfer_id, show_id, created_at)
  VALUES (:user_id, :performer_id, :tokens, '', :transfer_id, :show_id, now());
INSERT INTO billing_showtiptotal (show_id, tokens) VALUES (:show_id, :tokens)
  ON CONFLICT (show_id) DO UPDATE SET tokens = billing_showtiptotal.tokens + excluded.tokens;
COMMIT;
