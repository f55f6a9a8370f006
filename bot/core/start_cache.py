"""What a restart reads instead of doing again: the checked knowledge and the emergency detector's tables.

Reading and checking the knowledge folder (YAML, every emergency word) and building the detector take most of a
start once the matcher is cached (bot/core/hybrid.py, bot/core/index_cache.py). Both results are kept in the same
cache folder (``LOTSE_CACHE_DIR``), keyed by the bytes of every file in the knowledge folder and of Lotse's core code:
any edit of either builds them anew, so a snapshot is only ever of knowledge that passed the check.

- The knowledge is a pickle, read by an unpickler that constructs only Lotse's own knowledge types and the few plain
  types they hold (anything else is refused, and the folder is read and checked again).
- The detector's tables are :mod:`marshal` data: plain strings, numbers, tuples, lists, sets and dicts.

A file that cannot be read or written only costs the time it would have saved (a warning in the log).
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import io
import logging
import marshal
import pickle
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pydantic

from bot.core.emergency import Detector, build_detector
from bot.core.index_cache import write_atomically
from bot.core.knowledge import load_knowledge
from bot.core.model import Knowledge

log = logging.getLogger("lotse.cache")
FORMAT = "start-1"  # raise when what is kept changes shape
CORE = Path(__file__).resolve().parent
UNREADABLE = (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, pickle.UnpicklingError)


@functools.cache
def code_digest() -> str:
    """A digest of Lotse's core code (bot/core): what the knowledge's types and the detector's tables depend on."""
    digest = hashlib.sha256(f"{FORMAT} {sys.version} pydantic {pydantic.VERSION}".encode())
    for path in sorted(CORE.rglob("*.py")):
        digest.update(path.relative_to(CORE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def knowledge_digest(root: Path) -> str:
    """A digest of every file in the knowledge folder (names and bytes) and of the core code."""
    digest = hashlib.sha256(code_digest().encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):  # editors' swap files, .git
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def checked_knowledge(root: Path, cache_dir: Path | None) -> Knowledge:
    """The knowledge folder read and checked (:func:`bot.core.knowledge.load_knowledge`, which raises
    KnowledgeError with every problem), or its snapshot from ``cache_dir`` when no file changed since."""
    if cache_dir is None or not root.is_dir():
        return load_knowledge(root)
    path = cache_dir / f"knowledge-{knowledge_digest(root)}.pickle"
    try:
        found = _Unpickler(io.BytesIO(path.read_bytes())).load()
        if isinstance(found, Knowledge):
            return found
        log.warning("knowledge snapshot %s holds something else; reading the folder", path.name)
    except FileNotFoundError:
        pass
    except UNREADABLE as exc:
        log.warning("knowledge snapshot %s unreadable (%s); reading the folder", path.name, type(exc).__name__)
    knowledge = load_knowledge(root)
    _keep(path, _pickled(knowledge))
    return knowledge


def detector(
    knowledge: Knowledge,
    known: Callable[[str], bool],
    stopwords: Mapping[str, frozenset[str]],
    cache_dir: Path | None,
    key: str,
) -> Detector | None:
    """The emergency detector (:func:`bot.core.emergency.build_detector`), its tables read from ``cache_dir`` when
    they were built for the same matcher ``key`` (knowledge and settings) and code."""
    emergency = knowledge.emergency
    if cache_dir is None or emergency is None or not emergency.words:
        return build_detector(emergency, known, stopwords)
    digest = hashlib.sha256(f"{code_digest()} {key}".encode()).hexdigest()[:32]
    path = cache_dir / f"detector-{digest}.marshal"
    try:
        return Detector.restore(emergency, known, marshal.loads(path.read_bytes()))
    except FileNotFoundError:
        pass
    except UNREADABLE as exc:
        log.warning("detector cache %s unreadable (%s); building it", path.name, type(exc).__name__)
    built = build_detector(emergency, known, stopwords)
    assert built is not None  # the knowledge has emergency words
    _keep(path, marshal.dumps(built.state()))
    return built


def _keep(path: Path, data: bytes) -> None:
    """Write ``data`` atomically (:func:`bot.core.index_cache.write_atomically`); a folder that cannot be written
    costs only the time the file would have saved."""
    try:
        write_atomically(path, lambda out: out.write(data))
    except OSError as exc:
        log.warning("%s not cached in %s (%s); the next start builds it again", path.name, path.parent, exc.strerror)


def _frozen(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    """The knowledge's read-only mappings, rebuilt when a snapshot is read."""
    return MappingProxyType(mapping)


def _pickled(knowledge: Knowledge) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, MappingProxyType: lambda m: (_frozen, (dict(m),))}
    pickler.dump(knowledge)
    return out.getvalue()


# What a knowledge snapshot may construct: Lotse's knowledge types, and what pickle needs to rebuild them.
_ALLOWED = {
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("datetime", "date"),
    (__name__, "_frozen"),
}


class _Unpickler(pickle.Unpickler):
    """Refuses every global but Lotse's knowledge types and the few listed above."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "bot.core.model" or (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a knowledge snapshot")
