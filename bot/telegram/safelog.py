"""Tracebacks for the log without any content: exception types and code locations, never exception messages.

An exception's message may carry what a person wrote: a database error lists the statement's parameters, a
decoding error quotes the text around the bad character. The log gets where it happened, not what it was about.
"""

from __future__ import annotations

import traceback


def where(error: BaseException) -> str:
    """``TypeError at bot/x.py:12 in f <- bot/y.py:34 in g``, for the error and the ones it was raised from."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        stack = " <- ".join(f"{_short(f.filename)}:{f.lineno} in {f.name}" for f in reversed(frames[-6:]))
        parts.append(f"{type(current).__name__} at {stack or '?'}")
        current = current.__cause__ or current.__context__
    return "; from ".join(parts)


def origin(error: BaseException) -> str:
    """``ValueError at bot/x.py:12``: the error's type and where it was raised (no message)."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f"{_short(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"
    return f"{type(error).__name__} at {place}"


def _short(filename: str) -> str:
    for marker in ("/bot/", "/site-packages/"):
        if marker in filename:
            return (
                filename.split(marker, 1)[1] if marker == "/site-packages/" else "bot/" + filename.split(marker, 1)[1]
            )
    return filename
