"""Reporting problems in knowledge files: ``file:line``, a message and a one-line hint, never only the first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from bot.core.yamlsafe import LDict, LList, YamlBool11, load_yaml, yaml11_booleans

Severity = Literal["error", "warning"]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of the knowledge check."""

    file: str
    line: int
    severity: Severity
    message: str
    hint: str = ""

    def format(self) -> str:
        text = f"{self.file}:{self.line}: {self.severity}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


class Reporter:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    @staticmethod
    def rel(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def add(self, path: Path, line: int, message: str, hint: str = "", severity: Severity = "error") -> None:
        self.problems.append(Problem(self.rel(path), line, severity, message, hint))


_FIELD_HINTS = {
    "extra_forbidden": "check the spelling; see knowledge/README.md for the allowed fields",
    "missing": "add it; see knowledge/README.md",
    "literal_error": "use one of the listed values",
    "too_short": "add more entries",
    "string_type": "write text here (put it in double quotes)",
    "bool_type": "write true or false",
    "int_type": "write a whole number",
    "float_type": "write a decimal number",
    "tuple_type": "write a list: [a, b] or one '- item' per line",
    "dict_type": "write a block of 'key: value' lines",
    "mapping_type": "write a block of 'key: value' lines",
}


def _locate(raw: Any, loc: tuple[int | str, ...]) -> tuple[int, Any]:
    """Follow a pydantic error location through the located YAML data to a line."""
    line = raw.line if isinstance(raw, LDict | LList) else 1
    node = raw
    for part in loc:
        if isinstance(node, LDict) and isinstance(part, str) and part in node:  # noqa: SIM114 - the two branches narrow different types
            line, node = node.line_of(part), node[part]
        elif isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.line_of(part), node[part]
        else:
            break
    return line, node


_BOOL_FIELDS = {"reviewed", "required"}


def _describe(error: Any, node: Any) -> tuple[str, str] | None:
    loc = [str(p) for p in error["loc"] if p != "[key]"]
    where = ".".join(loc)
    kind = error["type"]
    hint = _FIELD_HINTS.get(kind, "see knowledge/README.md")
    if kind == "extra_forbidden":
        return f"unknown field '{loc[-1]}'", hint
    if kind == "missing":
        return f"missing field '{where}'", hint
    if isinstance(node, YamlBool11):
        return None  # reported by _report_yaml11
    if isinstance(node, bool) and kind == "string_type":
        return f"{where}: {str(node).lower()} is a boolean where text belongs", f'write "{str(node).lower()}"'
    if isinstance(node, int) and kind == "string_type":
        return f"{where}: a number where text belongs", f'put it in double quotes: "{node}"'
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}", hint


def _report_yaml11(raw: Any, path: Path, rep: Reporter) -> bool:
    found = yaml11_booleans(raw)
    for where, line, value in found:
        name = ".".join(str(p) for p in where)
        if where and where[-1] in _BOOL_FIELDS:
            rep.add(path, line, f"{name}: '{value}' is a YAML 1.1 boolean; write true or false", "true/false only")
        else:
            rep.add(
                path,
                line,
                f"{name}: '{value}' would be read as a YAML 1.1 boolean where text belongs",
                f'put it in double quotes: "{value}"',
            )
    return bool(found)


def validate(model: type[M], raw: Any, path: Path, rep: Reporter) -> M | None:
    flagged = _report_yaml11(raw, path, rep)
    try:
        result = model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            line, node = _locate(raw, tuple(error["loc"]))
            described = _describe(error, node)
            if described is not None:
                rep.add(path, line, *described)
        return None
    return None if flagged else result


def load_mapping(path: Path, rep: Reporter) -> LDict | None:
    loaded = load_yaml(path)
    for issue in loaded.issues:
        rep.add(path, issue.line, issue.message, issue.hint)
    if loaded.data is None and not loaded.issues:
        rep.add(path, 1, "the file is empty", "copy the structure from knowledge/README.md")
        return None
    if loaded.data is not None and not isinstance(loaded.data, LDict):
        rep.add(path, 1, "the file must be a block of 'key: value' lines", "see knowledge/README.md")
        return None
    return loaded.data if isinstance(loaded.data, LDict) else None


def load_validated(model: type[M], path: Path, rep: Reporter) -> tuple[LDict, M] | None:
    """A YAML mapping file and the model validated from it, or None (every problem reported)."""
    raw = load_mapping(path, rep)
    if raw is None:
        return None
    result = validate(model, raw, path, rep)
    return None if result is None else (raw, result)


def line_of_text(path: Path, text: str) -> int:
    """The line of ``path`` that holds ``text`` (1 when it cannot be found)."""
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if text in line:
                return number
    except OSError:
        pass
    return 1
