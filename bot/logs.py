"""Logging for ``python -m bot run``: one JSON object a line (or text for people at a terminal); ids, never content.

A line carries the time (ISO 8601, UTC), the level, the logger, the message and the structured fields a call gives
with ``extra=`` (``update_id``, ``case``, ``chat_kind`` ...); the ids in messages that begin with ``update %s`` or
``case %s`` become fields too. An exception is logged as its type and code locations only: its message may carry what
a person wrote (:mod:`bot.telegram.safelog`). The libraries stay quiet below WARNING: python-telegram-bot logs
update bodies at DEBUG and httpx the token at INFO (:func:`bot.telegram.app.quiet_library_logs`).
"""

from __future__ import annotations

import datetime as dtm
import logging
import re
import sys
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot.config import LOG_FORMATS, LOG_LEVELS, Config
from bot.telegram.safelog import where

LEVELS: Mapping[str, int] = {name: logging.getLevelNamesMapping()[name.upper()] for name in LOG_LEVELS}
OWN = "lotse"  # Lotse's loggers: "lotse" and "lotse.*"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_IDS = re.compile(r"^(update|case) %[sd]")
_FIELDS = {"update": "update_id", "case": "case"}
_RESERVED = frozenset(RESERVED_ATTRS) | {"message", "asctime"}
_SCALARS = (str, int, float, bool, type(None))
_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record (what ``extra=`` added): scalars as they are, anything else as its type, so
    that an object's text (an update's body) never reaches the log."""
    found = {}
    for key, value in record.__dict__.items():
        if key in _RESERVED or key.startswith("_"):
            continue
        found[key] = value if isinstance(value, _SCALARS) else f"<{type(value).__name__}>"
    return found


class _Ids(logging.Filter):
    """``log.info("update %s: ...", update_id)`` gives the line an ``update_id`` field (``case %s``: ``case``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = _IDS.match(record.msg) if isinstance(record.msg, str) else None
        if found is not None and isinstance(record.args, tuple) and record.args:
            field, value = _FIELDS[found.group(1)], record.args[0]
            if value is not None and not hasattr(record, field):
                setattr(record, field, value)
        return True


def _exception(ei: _ExcInfo) -> str:
    return where(ei[1]) if ei[1] is not None else "unknown error"


class LotseJsonFormatter(JsonFormatter):
    """``{"time": ..., "level": "info", "logger": ..., "message": ..., <fields>, "error": "<type> at <where>"}``."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "error"},
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = dtm.datetime.fromtimestamp(record.created, tz=dtm.UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()
        log_data.update(_fields(record))

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 - logging's name
        return _exception(ei)


class TextFormatter(logging.Formatter):
    """``2025-01-02 10:11:12,345 INFO lotse.telegram: case 4F2K: announced [case=4F2K]``, for a terminal."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # another handler's formatter may have left the whole traceback here
        line = super().format(record)
        fields = _fields(record)
        if fields:
            first, newline, rest = line.partition("\n")
            line = first + " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]" + newline + rest
        return line

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 - logging's name
        return "error: " + _exception(ei)


class LotseHandler(logging.StreamHandler[TextIO]):
    """The one handler :func:`configure` puts on the root logger. A record that cannot be formatted is reported by
    where it was logged, not with its arguments (logging's own report prints them)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        error = sys.exc_info()[1]
        if not logging.raiseExceptions or self.stream is None:
            return
        kind = type(error).__name__ if error is not None else "error"
        try:
            self.stream.write(f"logging error: {kind} for a record of {record.name} at {record.pathname}:"
                              f"{record.lineno}{self.terminator}")  # fmt: skip
            self.flush()
        except Exception:  # the stream itself is gone: nothing to tell it
            return


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``LOTSE_LOG_FORMAT``: ``json`` (one object a line) or ``text``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: json or text")
    return LotseJsonFormatter() if log_format == "json" else TextFormatter()


def handler(log_format: str, stream: TextIO | None = None) -> LotseHandler:
    """A handler writing ``log_format`` lines to ``stream`` (standard error), with the ids lifted into fields."""
    made = LotseHandler(sys.stderr if stream is None else stream)
    made.setFormatter(formatter(log_format))
    made.addFilter(_Ids())
    return made


def configure(config_or_format: Config | str, level: str | None = None, stream: TextIO | None = None) -> None:
    """Set up the root logger: once (a second call replaces the first's handler), to standard error.

    ``level`` (default: the config's, else ``info``) is Lotse's own loggers' level; the libraries log from INFO
    at the most (debug output of python-telegram-bot and httpx carries update bodies and the token).
    """
    from bot.telegram.app import quiet_library_logs  # loads python-telegram-bot: only when logging is set up

    if isinstance(config_or_format, Config):
        log_format, level = config_or_format.log_format, level or config_or_format.log_level
    else:
        log_format = config_or_format
    number = LEVELS[(level or "info").lower()]
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, LotseHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler(log_format, stream))
    root.setLevel(max(number, logging.INFO))
    logging.getLogger(OWN).setLevel(number)
    logging.captureWarnings(True)  # warnings too are lines of the log
    quiet_library_logs()
