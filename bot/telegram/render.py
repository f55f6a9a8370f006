"""Rendering core replies for Telegram: HTML with every dynamic value escaped, split at 4096 UTF-16 units."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from bot.core.render import LRI, PDI, isolate_ltr
from bot.core.replies import Reply

MAX_UTF16 = 4096
MAP_SEARCH = "https://www.openstreetmap.org/search?query="  # a search, so no coordinates are claimed


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int, marker: str = " …") -> str:
    """``text`` within ``limit`` UTF-16 units; when it is longer, cut (at a space where possible) and marked."""
    if utf16_len(text) <= limit:
        return text
    room = max(0, limit - utf16_len(marker))
    return text[: _cut(text, room)].rstrip() + marker


def split_text(text: str, limit: int = MAX_UTF16) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` UTF-16 units, at line breaks where possible, then at spaces."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        current = ""
        while utf16_len(line) > limit:
            cut = _cut(line, limit)
            parts.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        current = line
    if current or not parts:
        parts.append(current)
    return parts


def _cut(line: str, limit: int) -> int:
    """The longest prefix of ``line`` within ``limit`` units, ending at a space if there is one."""
    units, end = 0, 0
    for index, ch in enumerate(line):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        end = index + 1
    space = line.rfind(" ", 0, end)
    return space if space > end // 2 else end


def to_html(reply: Reply) -> list[str]:
    """The reply as one or more HTML messages (title in bold on the first)."""
    text, title = reply.text, reply.title
    if reply.direction == "rtl":
        text = text if LRI in text else isolate_ltr(text, "rtl")
        title = isolate_ltr(title, "rtl") if title else title
    head = f"<b>{escape(title)}</b>\n\n" if title else ""
    budget = MAX_UTF16 - utf16_len(head)
    # Escaping never changes what Telegram counts (entities are counted as the character they stand for).
    chunks = split_text(text, budget) if utf16_len(text) > budget else [text]
    messages = [_with_maps(escape(chunk), reply.places) for chunk in chunks]
    messages[0] = head + messages[0]
    return messages


def _with_maps(html: str, places: tuple[tuple[str, str], ...]) -> str:
    """Each line that is exactly one of the reply's street addresses (bidi isolates aside) becomes a link to a map
    search for it."""
    if not places:
        return html
    links = {escape(shown): MAP_SEARCH + quote(query, safe="") for shown, query in places}
    lines = html.split("\n")
    for index, line in enumerate(lines):
        link = links.get(line.replace(LRI, "").replace(PDI, ""))
        if link:
            lines[index] = f'<a href="{escape(link)}">{line}</a>'
    return "\n".join(lines)
