"""`manage.py check --deploy` is clean under production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_check_deploy_passes_with_production_env(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("prod-" + "k3y-" * 20)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DEBUG": "0",
        "SECRET_KEY_FILE": str(secret_file),  # the *_FILE form, as Docker/Kubernetes secrets
        "ALLOWED_HOSTS": "marquee.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://marquee.example.com",
        "SITE_URL": "https://marquee.example.com",
        "MEDIA_HOOK_SECRET": "hook-" + "s" * 40,
        # Fernet key for 2257 ID images (required when DEBUG=0).
        "RECORDS_ENCRYPTION_KEY": "x0hHcI8m3n0Y3cd3Ddn8R1q0m4JkQ0Q0m6x8bQkqv8Y=",
        "MARQUEE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": "",
        "REDIS_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "DEBUG": "0", "ALLOWED_HOSTS": "x.example"}
    env["MARQUEE_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
