"""The dependency rule of DEVELOPERS.md: core imports neither telegram nor sqlmodel (nor storage/telegram code)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_CORE = (
    "telegram",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "bot.telegram",
    "bot.storage",
    "bot.cli",
    "bot.config",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((ROOT / "bot" / package).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_core_imports_neither_telegram_nor_sqlmodel() -> None:
    assert _violations("core", FORBIDDEN_IN_CORE) == []


def test_rule_detects_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("import telegram.ext\nfrom sqlmodel import Session\n", encoding="utf-8")
    assert _imports(sample) == {"telegram.ext", "sqlmodel"}


def test_storage_and_telegram_do_not_import_each_other() -> None:
    assert _violations("storage", ("telegram", "bot.telegram")) == []
    assert _violations("telegram", ("sqlmodel", "sqlalchemy", "bot.storage")) == []


def test_importing_core_loads_neither_at_runtime() -> None:
    code = (
        "import sys, bot.core.dialogue, bot.core.knowledge, bot.core.matcher, bot.core.evaluate;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('telegram','sqlmodel','sqlalchemy')];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""


def test_no_module_is_over_450_lines() -> None:
    """A module that passes ~450 lines is asking to become a package (DEVELOPERS.md)."""
    long = {
        str(path.relative_to(ROOT)): count
        for path in (ROOT / "bot").rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}
