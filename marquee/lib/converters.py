"""URL converters shared by every app's routes."""

from __future__ import annotations

from django.urls import register_converter

# 18 digits always fit a signed 64-bit primary key: a longer number is no
# route (404), never an OverflowError in the database driver (500).
ID_MAX = 10**18 - 1


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")

# For drf-spectacular (SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]).
ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": ID_MAX}
