from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Decision:
    """The answer of an ``access_*`` / ``can_*`` check: allowed or why not.

    ``status`` is what an HTTP caller should answer (403, 404 to hide that
    something exists, 402 for a paywall, 451 for a legal block)."""

    allowed: bool
    code: str = "ok"
    message: str = ""
    status: int = 200
    extra: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(code: str, message: str, status: int = 403, **extra) -> Decision:
    return Decision(False, code, message, status, extra)
