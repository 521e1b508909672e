"""Encryption at rest for identity documents (Fernet: AES-128-CBC + HMAC).

The key comes from ``RECORDS_ENCRYPTION_KEY`` (several keys, comma-separated,
rotate with MultiFernet: the first encrypts, any decrypts).  Only with DEBUG
is a development key derived from SECRET_KEY, so a dev checkout works."""

from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "delete_private", "read_private", "write_private"]


def _fernet() -> MultiFernet:
    keys = list(settings.RECORDS_ENCRYPTION_KEY)
    if not keys:
        raise ImproperlyConfigured("RECORDS_ENCRYPTION_KEY is not set")
    return MultiFernet([Fernet(key) for key in keys])


def _path(storage_name: str) -> Path:
    root = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    path = (root / storage_name).resolve()
    if root not in path.parents:
        raise ValueError("storage name escapes the private folder")
    return path


def write_private(folder: str, data: bytes) -> str:
    """Encrypt ``data`` into a new random file under PRIVATE_MEDIA_ROOT/folder;
    returns its storage name."""
    storage_name = f"{folder}/{secrets.token_hex(16)}.bin"
    path = _path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_bytes(_fernet().encrypt(data))
    path.chmod(0o600)
    return storage_name


def read_private(storage_name: str) -> bytes:
    return _fernet().decrypt(_path(storage_name).read_bytes())


def delete_private(storage_name: str) -> None:
    if storage_name:
        _path(storage_name).unlink(missing_ok=True)
