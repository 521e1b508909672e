"""Typed access to the environment.

Every setting comes through one of these helpers so that a bad value fails
loudly at start-up instead of surfacing as a confusing error later.  A value
may also be read from a file named by ``<NAME>_FILE`` (Docker/Kubernetes
secrets), which wins over ``<NAME>``.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

_UNSET = object()


class ImproperlyConfiguredEnv(RuntimeError):
    """Raised at import time of the settings for a missing or malformed value."""


def _raw(name: str) -> str | None:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfiguredEnv(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name)


def env_str(name: str, default: object = _UNSET) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is _UNSET:
            raise ImproperlyConfiguredEnv(f"{name} must be set")
        return default  # type: ignore[return-value]
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        result = default
    else:
        try:
            result = int(value.strip())
        except ValueError:
            raise ImproperlyConfiguredEnv(f"{name}={value!r} is not an integer") from None
    if minimum is not None and result < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={result} is below the minimum {minimum}")
    if maximum is not None and result > maximum:
        raise ImproperlyConfiguredEnv(f"{name}={result} is above the maximum {maximum}")
    return result


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None or value.strip() == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str, default: list[str] | None = None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of addresses or CIDRs."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfiguredEnv(f"{name} contains {item!r}, which is not an IP address or CIDR") from None
    return networks


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} must be one of {sorted(choices)}")
    return value
