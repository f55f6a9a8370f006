"""Writing knowledge files the way volunteers read them: one list item per line, texts in double quotes, answers as
indented blocks, optional comments after a key. Whatever is written is read back by :mod:`bot.core.yamlsafe` to the
same values (the writer checks every text it writes as a block, and falls back to a quoted string)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import yaml

_INDENT = "  "
_BARE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")  # ids and codes: written without quotes
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}  # ... unless YAML reads them otherwise


def quoted(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value if _BARE.match(value) and value not in _YAML_WORDS else quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")


def _block(text: str, indent: str) -> str | None:
    """``text`` as a literal block (``|``, ``|-``) under ``indent``, or None when a block would not read back."""
    if "\n" not in text or text.endswith("\n\n") or text[:1] in (" ", "\t"):
        return None
    indicator = "|" if text.endswith("\n") else "|-"
    body = "\n".join(indent + line if line else "" for line in text.removesuffix("\n").split("\n"))
    written = f"{indicator}\n{body}\n"
    try:
        back = yaml.safe_load(f"k: {written}")
    except yaml.YAMLError:
        return None
    return written if isinstance(back, dict) and back.get("k") == text else None


def dump(data: Mapping[str, Any], comments: Mapping[str, str] | None = None, header: str = "") -> str:
    """A mapping as YAML text; ``comments`` puts ``# text`` after a top-level key, ``header`` opens the file."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += _mapping(data, "", comments or {})
    return "\n".join(lines) + "\n"


def _mapping(data: Mapping[str, Any], indent: str, comments: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    for key, value in data.items():
        note = f"  # {comments[key]}" if key in comments else ""
        lines += _entry(f"{indent}{key}:", value, indent, note)
    return lines


def _entry(lead: str, value: Any, indent: str, note: str = "") -> list[str]:
    """``lead`` (``key:`` or ``-``) followed by ``value``, which may open a nested block."""
    if isinstance(value, Mapping):
        if not value:
            return [f"{lead} {{}}{note}"]
        return [f"{lead}{note}", *_mapping(value, indent + _INDENT, {})]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return [f"{lead} []{note}"]
        lines = [f"{lead}{note}"]
        for item in value:
            if isinstance(item, Mapping) and item:
                nested = _mapping(item, indent + _INDENT * 2, {})
                lines.append(f"{indent}{_INDENT}- {nested[0].lstrip()}")
                lines += nested[1:]
            else:
                lines += _entry(f"{indent}{_INDENT}-", item, indent + _INDENT)
        return lines
    if isinstance(value, str) and "\n" in value:
        block = _block(value, indent + _INDENT)
        if block is not None:
            first, *rest = block.removesuffix("\n").split("\n")
            return [f"{lead} {first}{note}", *rest]
    scalar = _scalar(value)
    return [f"{lead} {scalar}{note}" if scalar else f"{lead}{note}"]
