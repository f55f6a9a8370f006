"""The built search index kept between starts: a restart with unchanged knowledge reads it instead of building it.

Stored with :mod:`marshal`: plain strings, numbers, tuples, lists, sets and dicts only, nothing that runs code when it
is read. The file name carries the knowledge's content key (:func:`bot.core.hybrid.cache_key`), the index format and
the Python version (marshal's format is Python's own); anything unreadable is built again.
"""

from __future__ import annotations

import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from bot.core.match_model import MatchSettings
from bot.core.matcher import Index, _Triggers
from bot.core.model import Knowledge

INDEX_FORMAT = 2  # raise when the index's structures change: a cached index of another format is built again
_STATE = ("_lang_bit", "_phrases", "_stop_phrases", "targets", "_stopwords", "idf", "_flat", "_delete_map",
          "_buckets", "_cities")  # fmt: skip


def index_path(cache_dir: Path, key: str) -> Path:
    """Where the index for the knowledge and settings behind ``key`` is kept."""
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache_dir / f"index-{key}-f{INDEX_FORMAT}-{python}.marshal"


def state(index: Index) -> bytes:
    """What :func:`restore` needs, as bytes."""
    values: list[Any] = [_plain(getattr(index, name)) for name in _STATE]
    values += [_triggers(index._triggers), _triggers(index._handoff_triggers)]
    return marshal.dumps((INDEX_FORMAT, values))


def restore(knowledge: Knowledge, settings: MatchSettings, data: bytes) -> Index:
    """The index :func:`state` saved, for the same knowledge and settings (the caller keys the file by both)."""
    found = marshal.loads(data)
    if not isinstance(found, tuple) or len(found) != 2 or found[0] != INDEX_FORMAT:
        raise ValueError("not an index of this format")
    *plain, triggers, handoff = found[1]
    index = Index.__new__(Index)
    index.settings, index.knowledge = settings, knowledge
    for name, value in zip(_STATE, plain, strict=True):
        setattr(index, name, value)
    index._triggers, index._handoff_triggers = _Triggers(*triggers), _Triggers(*handoff)
    return index


def load(path: Path, knowledge: Knowledge, settings: MatchSettings) -> Index | None:
    """The cached index, or None when there is none or it cannot be read."""
    try:
        return restore(knowledge, settings, path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None


def save(path: Path, index: Index) -> None:
    """Write the index atomically; OSError when the folder is not writable."""
    data = state(index)
    write_atomically(path, lambda out: out.write(data))


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a cache file through ``write`` into a temporary file beside it (readable by this user only), then
    rename it: a reader never sees half a file, and of processes writing at once the last complete file wins.
    OSError when the folder cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:20]}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(value: Any) -> Any:
    """defaultdicts as plain dicts (marshal writes only exact builtin types)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _triggers(triggers: _Triggers) -> tuple[Any, ...]:
    return (triggers.single, triggers.phrases, triggers.vocab, triggers.deletes)
