"""Safe YAML loading that remembers line numbers and refuses YAML's traps.

PyYAML's safe loader composes the document (C speed where libyaml is available); this module then builds plain
Python values from the node tree itself, so that it can report, with ``file:line``:

- duplicate keys in a mapping (PyYAML silently keeps the last one),
- anchors and aliases (``&x`` / ``*x``), which volunteers never need and which hide content,
- YAML 1.1 booleans (``yes``/``no``/``on``/``off``) that would silently turn text into ``True``/``False``,
- non-string keys.

Mappings become :class:`LDict` and sequences :class:`LList`; both carry the line of every entry so that
schema errors found later can point at the right line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is bundled with PyYAML wheels; fall back to the pure-Python loader.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the wheel
    _Loader = yaml.SafeLoader

_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"
_TRUE_FALSE = {"true", "false"}


class YamlBool11(str):
    """A scalar YAML 1.1 would read as a boolean (``yes``, ``No``, ``on``): kept as text, flagged by validation."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class YamlIssue:
    """A structural problem found while loading (always an error)."""

    line: int
    message: str
    hint: str


class LDict(dict[str, Any]):
    """A mapping that knows the line of itself and of each key."""

    line: int
    key_lines: dict[str, int]
    text_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def text_line(self, key: str, offset: int = 0) -> int:
        """The line of character ``offset`` inside the text value of ``key`` (block scalars included)."""
        start = self.text_lines.get(key, self.line_of(key))
        value = self.get(key)
        return start + (value[:offset].count("\n") if isinstance(value, str) else 0)


class LList(list[Any]):
    """A sequence that knows the line of itself and of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


@dataclass(slots=True)
class Loaded:
    """The result of loading one YAML file: the data (or None) and every structural issue."""

    path: Path
    data: Any
    issues: list[YamlIssue]


class _Builder:
    def __init__(self) -> None:
        self.issues: list[YamlIssue] = []
        self._seen: set[int] = set()
        self._constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, used_at: int | None = None) -> Any:
        line = node.start_mark.line + 1
        if id(node) in self._seen:
            self.issues.append(
                YamlIssue(
                    used_at or line,
                    "YAML anchors/aliases (&name, *name) are not allowed",
                    "write the value out in full",
                )
            )
            return None
        self._seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, line)
        if isinstance(node, yaml.SequenceNode):
            out = LList()
            out.line = line
            out.item_lines = []
            for item in node.value:
                out.item_lines.append(item.start_mark.line + 1)
                out.append(self.build(item, out.item_lines[-1]))
            return out
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, line: int) -> LDict:
        out = LDict()
        out.line = line
        out.key_lines = {}
        out.text_lines = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.issues.append(YamlIssue(key_line, "merge keys (<<) are not allowed", "write the keys out"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(YamlIssue(key_line, "a key must be plain text", "remove the brackets from the key"))
                continue
            key = key_node.value
            if key in out.key_lines:
                self.issues.append(
                    YamlIssue(
                        key_line,
                        f"duplicate key '{key}' (first at line {out.key_lines[key]})",
                        "keep one of them; YAML would silently drop the first",
                    )
                )
                continue
            out.key_lines[key] = key_line
            if isinstance(value_node, yaml.ScalarNode):
                block = value_node.style in ("|", ">")
                out.text_lines[key] = value_node.start_mark.line + (2 if block else 1)
            out[key] = self.build(value_node, key_line)
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == _BOOL_TAG and node.value.lower() not in _TRUE_FALSE:
            return YamlBool11(node.value)
        if node.tag == _STR_TAG:
            return node.value
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self.issues.append(YamlIssue(node.start_mark.line + 1, f"cannot read value: {exc.problem}", "quote it"))
            return node.value


def yaml11_booleans(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], int, str]]:
    """Every YAML 1.1 boolean spelling in ``data`` with its key path and line."""
    found: list[tuple[tuple[str | int, ...], int, str]] = []
    if isinstance(data, LDict):
        for key, value in data.items():
            if isinstance(value, YamlBool11):
                found.append(((*path, key), data.line_of(key), str(value)))
            else:
                found.extend(yaml11_booleans(value, (*path, key)))
    elif isinstance(data, LList):
        for index, value in enumerate(data):
            if isinstance(value, YamlBool11):
                found.append(((*path, index), data.line_of(index), str(value)))
            else:
                found.extend(yaml11_booleans(value, (*path, index)))
    return found


def load_yaml(path: Path) -> Loaded:
    """Load one YAML file safely; never raises for bad content, returns issues instead."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Loaded(path, None, [YamlIssue(1, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8")])
    except OSError as exc:
        return Loaded(path, None, [YamlIssue(1, f"cannot read file: {exc.strerror}", "check the path")])
    return load_yaml_text(text, path)


def load_yaml_text(text: str, path: Path) -> Loaded:
    """Load YAML from a string (``path`` names it in messages)."""
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        return Loaded(path, None, [YamlIssue(line, f"YAML syntax error: {problem}", _syntax_hint(problem))])
    except yaml.YAMLError as exc:  # pragma: no cover - defensive
        return Loaded(path, None, [YamlIssue(1, f"YAML error: {exc}", "check the indentation")])
    if len(documents) > 1:
        return Loaded(path, None, [YamlIssue(1, "more than one YAML document ('---')", "keep one document per file")])
    builder = _Builder()
    data = builder.build(documents[0]) if documents and documents[0] is not None else None
    return Loaded(path, data, builder.issues)


def _syntax_hint(problem: str) -> str:
    if "tab" in problem:
        return "indent with spaces, never with tabs"
    if "mapping values" in problem:
        return "put text that contains ': ' in double quotes"
    if "found character" in problem or "expected" in problem:
        return "check indentation and quotes on this line and the one above"
    return "check indentation and quotes"
