"""One structured ``key=value`` log line per supervision event."""

from __future__ import annotations

from collections.abc import Mapping

_NEEDS_QUOTES = frozenset(' "=\\\t\r\n')
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def format_value(value: object) -> str:
    """A value as written in a line: bare when safe, otherwise quoted with escapes."""
    if isinstance(value, (tuple, list, frozenset)):
        text = ",".join(str(item) for item in value)
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    if text and not _NEEDS_QUOTES.intersection(text):
        return text
    return f'"{text.translate(_ESCAPES)}"'


def format_line(event: str, fields: Mapping[str, object]) -> str:
    """``event=<event> k1=v1 k2=v2 …``; fields that are None or empty are left out."""
    parts = [f"event={event}"]
    for key, value in fields.items():
        if value is None or value == ():
            continue
        parts.append(f"{key}={format_value(value)}")
    return " ".join(parts)
