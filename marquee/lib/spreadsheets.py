"""Cells for spreadsheets (CSV exports)."""

from __future__ import annotations

import json


def csv_safe(value) -> str:
    """Plain text for spreadsheets: no formula injection (=, +, -, @)."""
    text = (
        json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else ("" if value is None else str(value))
    )
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
