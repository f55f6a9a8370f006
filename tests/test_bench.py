"""Smoke test of bench/limits.py at tiny sizes: the echo bot and one Lotse instance on SQLite, each in its own
process against the fake Bot API in its own; the figures table has its rows and sensible numbers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bot.core.dialogue import Dialogue

ROOT = Path(__file__).resolve().parents[1]


def test_limits_quick_prints_the_throughput_table(dialogue: Dialogue, capsys: pytest.CaptureFixture[str]) -> None:
    # ``dialogue`` trained the matcher into LOTSE_CACHE_DIR: the bot process reads it instead of training.
    sys.path.insert(0, str(ROOT))
    try:
        from bench import limits
    finally:
        sys.path.remove(str(ROOT))
    cache = os.environ["LOTSE_CACHE_DIR"]
    argv = ["--quick", "--only", "throughput", "--people", "3", "--per", "2", "--kinds", "sqlite", "--cache", cache]
    assert limits.main(argv) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:4] == ["bot", "updates", "updates/s", "x echo"]
    rows = {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[1:])}
    echo, default = "echo bot (Lotse's HTTP client)", "echo bot (python-telegram-bot's default HTTP client)"
    assert set(rows) == {echo, default, "Lotse, SQLite + handoff, 1 instance"}
    for cells in rows.values():
        figures = dict(zip(header, cells, strict=True))
        assert figures["updates"] == "6"
        assert float(figures["updates/s"]) > 0
        assert 0 < float(figures["p50 ms"]) <= float(figures["p99 ms"])
        assert float(figures["RSS warm MB"]) > 20
        assert figures["odd"] == "0"  # every person got the replies the calibration counted
        assert 0 <= float(figures["machine CPU busy"].rstrip("%")) <= 100  # a tiny run may be under a tick
    assert rows[default][3] == "1.00" and rows[echo][4] == "1.00"  # the two baselines
    assert float(rows["Lotse, SQLite + handoff, 1 instance"][3]) > 0
