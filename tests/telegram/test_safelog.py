"""Error logs name exception types and code locations, never what people wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.storage.engine import make_engine
from bot.telegram.safelog import where

SECRET = "Zaynab-Qx7 +49 171 5550199"


def test_where_gives_types_and_places_of_the_whole_chain_without_messages() -> None:
    def inner() -> None:
        raise ValueError(SECRET)

    try:
        try:
            inner()
        except ValueError as exc:
            raise RuntimeError(f"while handling {SECRET}") from exc
    except RuntimeError as exc:
        logged = where(exc)
    assert logged.startswith("RuntimeError at ") and "; from ValueError at " in logged
    assert "in inner" in logged and "test_safelog.py:" in logged
    assert "Zaynab" not in logged and "5550199" not in logged


def test_database_errors_do_not_quote_the_statement_parameters(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (v TEXT UNIQUE)"))
        conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": SECRET})
    with pytest.raises(IntegrityError) as raised, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": SECRET})
    assert "Zaynab" not in str(raised.value) and "parameters hidden" in str(raised.value).lower()
