"""Lotse's log lines (bot/logs.py) and the one-line start-up error of ``python -m bot`` (bot/cli.py main)."""

from __future__ import annotations

import datetime as dtm
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot import cli
from bot.config import load_config
from bot.logs import OWN, LotseHandler, configure, handler
from bot.telegram.safelog import origin
from tests.conftest import FIXTURE_KB

SECRET = "Zaynab Quraishi +49 171 5550199"  # what a person wrote: never in a log line


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    """A stream for :func:`configure`; the logging set-up is restored afterwards."""
    root, own = logging.getLogger(), logging.getLogger(OWN)
    before = (root.level, own.level)
    yield io.StringIO()
    for mine in [h for h in root.handlers if isinstance(h, LotseHandler)]:
        root.removeHandler(mine)
    root.setLevel(before[0])
    own.setLevel(before[1])
    logging.captureWarnings(False)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    found = []
    for line in stream.getvalue().splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        found.append(entry)
    return found


def test_every_line_is_a_json_object_with_time_level_logger_message_and_fields(out: io.StringIO) -> None:
    configure("json", "info", stream=out)
    log = logging.getLogger("lotse.test")
    log.info("case %s: announced to the staff group", "K7Q2M")
    log.warning("update %s: %s; it will be processed again", 1234, "NetworkError", extra={"chat_kind": "private"})
    log.info("two\nlines", extra={"update": object(), "tries": 3})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    first, second, third = entries(out)
    assert list(first)[:4] == ["time", "level", "logger", "message"]
    stamp = dtm.datetime.fromisoformat(first["time"])
    assert stamp.utcoffset() == dtm.timedelta(0)
    assert abs(stamp - dtm.datetime.now(dtm.UTC)) < dtm.timedelta(minutes=1)
    assert first["level"] == "info" and first["logger"] == "lotse.test"
    assert first["message"] == "case K7Q2M: announced to the staff group" and first["case"] == "K7Q2M"
    assert second["level"] == "warning" and second["update_id"] == 1234 and second["chat_kind"] == "private"
    assert third["message"] == "two\nlines" and third["tries"] == 3
    assert third["update"] == "<object>"  # an object's text (an update's body) is never written, only its type


def test_text_format_is_for_a_terminal(out: io.StringIO) -> None:
    configure("text", "info", stream=out)
    logging.getLogger("lotse.test").info("update %s: start", 77, extra={"chat_kind": "supergroup"})
    (line,) = out.getvalue().splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO lotse\.test: update 77: start \[chat_kind=supergroup update_id=77]",
        line,
    ), line


def test_the_level_comes_from_the_setting(out: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    configure("json", "warning", stream=out)
    log = logging.getLogger("lotse.test")
    log.info("not shown")
    log.warning("shown")
    assert [e["message"] for e in entries(out)] == ["shown"]

    monkeypatch.setenv("KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.setenv("LOTSE_LOG_LEVEL", "debug")
    monkeypatch.setenv("LOTSE_LOG_FORMAT", "json")
    configure(load_config(), stream=out)
    log.debug("debug from lotse")
    logging.getLogger("somelibrary").debug("a library's debug line")
    logging.getLogger("somelibrary").info("a library's info line")
    for name in ("telegram.ext.ExtBot", "telegram.ext.Application", "httpx"):  # their debug and info carry bodies
        logging.getLogger(name).debug("body %s", SECRET)
        logging.getLogger(name).info("POST https://api.telegram.org/bot123:SECRET/sendMessage %s", SECRET)
    messages = [e["message"] for e in entries(out)]
    assert messages == ["shown", "debug from lotse", "a library's info line"]


def test_an_exceptions_message_does_not_reach_the_log(out: io.StringIO) -> None:
    def fails() -> None:
        try:
            raise KeyError(SECRET)
        except KeyError as exc:
            raise ValueError(f"could not store {SECRET!r}") from exc

    configure("json", "info", stream=out)
    log = logging.getLogger("lotse.test")
    try:
        fails()
    except ValueError:
        log.exception("update %s: processing failed", 5)
    (entry,) = entries(out)
    assert entry["message"] == "update 5: processing failed"
    assert re.match(r"ValueError at \S*tests/test_logs\.py:\d+ in fails <- ", entry["error"]), entry["error"]
    assert re.search(r"; from KeyError at \S*tests/test_logs\.py:\d+ in fails$", entry["error"])
    configure("text", "info", stream=out)
    try:
        fails()
    except ValueError:
        log.error("failed", exc_info=True)
    assert re.search(r"\nerror: ValueError at \S*tests/test_logs\.py:\d+ in fails", out.getvalue())
    assert "Zaynab" not in out.getvalue() and "5550199" not in out.getvalue()


def test_a_record_that_cannot_be_formatted_is_reported_without_its_arguments(out: io.StringIO) -> None:
    log = logging.getLogger("lotse.test.alone")  # pytest's own handlers (on the root) raise on such a record
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler("json", out))
    try:
        log.info("%d messages", SECRET)
    finally:
        log.handlers.clear()
        log.propagate = True
        log.setLevel(logging.NOTSET)
    (line,) = out.getvalue().splitlines()
    assert line.startswith("logging error: TypeError for a record of lotse.test.alone at ") and "test_logs.py" in line
    assert "Zaynab" not in line


def test_configure_is_idempotent(out: io.StringIO) -> None:
    configure("text", "info", stream=out)
    configure("json", "info", stream=out)
    configure("json", "info", stream=out)
    assert sum(isinstance(h, LotseHandler) for h in logging.getLogger().handlers) == 1
    logging.getLogger("lotse.test").info("once")
    assert [e["message"] for e in entries(out)] == ["once"]
    with pytest.raises(ValueError, match="unknown log format"):
        configure("yaml", "info", stream=out)
    with pytest.raises(KeyError):
        configure("json", "loud", stream=out)


def _boom(*_: object) -> None:
    raise RuntimeError(f"cannot parse {SECRET}")


def test_an_unexpected_error_at_start_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.delenv("LOTSE_LOG_LEVEL", raising=False)
    monkeypatch.setattr(cli, "_dialogue", _boom)
    assert cli.main(["ask", "hello"]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert re.fullmatch(
        r"error: RuntimeError at \S*tests/test_logs\.py:\d+; set LOTSE_LOG_LEVEL=debug for the traceback", line
    ), line
    assert "Zaynab" not in captured.err + captured.out


def test_the_traceback_is_printed_at_debug_level(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(FIXTURE_KB))
    monkeypatch.setenv("LOTSE_LOG_LEVEL", "debug")
    monkeypatch.setattr(cli, "_dialogue", _boom)
    assert cli.main(["ask", "hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in _boom" in err
    assert err.splitlines()[-1].startswith("error: RuntimeError at ")


def test_origin_names_the_type_and_place() -> None:
    try:
        _boom()
    except RuntimeError as exc:
        assert re.fullmatch(r"RuntimeError at \S*tests/test_logs\.py:\d+", origin(exc))
    assert origin(ValueError("never raised")) == "ValueError at ?"


def test_a_bug_in_reading_the_configuration_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "load_config", _boom)
    assert cli.main(["ask", "hello"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"error: RuntimeError at \S*tests/test_logs\.py:\d+ while reading the configuration", line)
