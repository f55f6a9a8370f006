"""The two other web services Lotse may talk to: a centre's ticket webhook and a LibreTranslate server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Lotse-Signature"
TIMESTAMP_HEADER = "X-Lotse-Timestamp"
DELIVERY_HEADER = "X-Lotse-Delivery"  # the same for every attempt of one event: receivers drop repeats


class TemporaryError(Exception):
    """The other side is down or busy: try again later."""


class PermanentError(Exception):
    """The other side refused the request for good (4xx other than 408 and 429)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>`` (the timestamp stops replays)."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age: float = 300.0) -> bool:
    """What a receiving ticket system checks (used in tests; documented in README)."""
    if abs(time.time() - float(timestamp)) > max_age:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True, slots=True)
class Hook:
    url: str
    secret: str


async def post_event(client: httpx.AsyncClient, hook: Hook, event: Mapping[str, Any], delivery: str) -> None:
    """POST one ticket event as JSON, signed, with its delivery id (in the body and a header: a receiver that was
    slow to answer gets the event again and must recognise it); raise Temporary/PermanentError."""
    body = json.dumps({**event, "delivery": delivery}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
        DELIVERY_HEADER: delivery,
    }
    try:
        response = await client.post(hook.url, content=body, headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        raise TemporaryError(type(exc).__name__) from exc
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise TemporaryError(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise PermanentError(f"HTTP {response.status_code}")


@dataclass(frozen=True, slots=True)
class LibreTranslate:
    """A LibreTranslate-compatible ``/translate`` endpoint (``LOTSE_TRANSLATE_URL``, ``LOTSE_TRANSLATE_KEY``)."""

    url: str
    api_key: str | None = None

    async def translate(self, client: httpx.AsyncClient, text: str, source: str, target: str) -> str:
        payload: dict[str, Any] = {"q": text, "source": source, "target": target, "format": "text"}
        if self.api_key:
            payload["api_key"] = self.api_key
        try:
            response = await client.post(self.url, json=payload, timeout=15.0)
        except httpx.HTTPError as exc:
            raise TemporaryError(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TemporaryError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(f"HTTP {response.status_code}")
        translated = response.json().get("translatedText")
        if not isinstance(translated, str) or not translated.strip():
            raise PermanentError("no translatedText in the answer")
        return translated
