"""The documented backup (pg_dump -Fc) restores into a fresh database where
``ledger_check`` and ``audit_verify`` pass, run by a fresh process there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid

import pytest
from django.db import connection

from marquee.audit.models import AuditEvent
from marquee.ledger.models import Transfer
from tests.support.billing import SANDBOX_SECRET, pending_purchase, post_sandbox, sandbox_body

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump/pg_restore need PostgreSQL"),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL client tools not installed"),
    pytest.mark.django_db(transaction=True),  # committed rows, visible to pg_dump
]


def _libpq_env(db: dict) -> dict:
    env = {**os.environ, "PGHOST": db["HOST"] or "127.0.0.1", "PGPORT": str(db["PORT"] or 5432)}
    env["PGUSER"] = db["USER"] or "postgres"
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(args, env, **kwargs):
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, timeout=120, **kwargs)


def test_dump_restores_into_a_fresh_database_with_ledger_and_audit_clean(client, viewer, tmp_path, settings):
    settings.SANDBOX_ENABLED, settings.SANDBOX_WEBHOOK_SECRET = True, SANDBOX_SECRET
    settings.AGE_VERIFICATION_BEFORE_PURCHASE = False
    # Some money and audit history: a token purchase through the sandbox webhook.
    purchase = pending_purchase(viewer)
    data = {"purchase": str(purchase.reference), "amount_cents": purchase.amount_cents, "payment": "pay_1"}
    assert post_sandbox(client, sandbox_body("payment.succeeded", data)).status_code == 200
    transfers, audits = Transfer.objects.count(), AuditEvent.objects.count()
    assert transfers >= 1 and audits >= 1

    db = connection.settings_dict
    env = _libpq_env(db)
    dump = tmp_path / "marquee.dump"
    restored = f"{db['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", db["NAME"]], env)
    _run(["createdb", restored], env)
    try:
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)], env)
        url = f"postgres://{env['PGUSER']}@{env['PGHOST']}:{env['PGPORT']}/{restored}"
        child = {**env, "DATABASE_URL": url, "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "marquee.settings"}
        if db["PASSWORD"]:
            child["DATABASE_URL"] = (
                f"postgres://{env['PGUSER']}:{db['PASSWORD']}@{env['PGHOST']}:{env['PGPORT']}/{restored}"
            )
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        ledger = _run([*manage, "ledger_check"], child, cwd=settings.BASE_DIR).stdout
        audit = _run([*manage, "audit_verify"], child, cwd=settings.BASE_DIR).stdout
    finally:
        subprocess.run(["dropdb", "--if-exists", restored], env=env, check=False, timeout=60)
    # The checks ran on the copy, and the copy holds the same history.
    assert re.search(rf"ledger_check: OK \({transfers} transfers", ledger), ledger
    assert f"audit chain OK: {audits} rows" in audit, audit
