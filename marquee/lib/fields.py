"""Text cut to what a column holds: the length comes from the model field, so
a migration that changes it changes every caller (no copied ``[:200]``)."""

from __future__ import annotations


def max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def clip(value: str, model, field: str) -> str:
    """``value`` cut to ``model.field``'s max_length."""
    return value[: max_length(model, field)]
