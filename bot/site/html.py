"""HTML helpers of the review site: escaping, the page frame, and Telegram's message HTML made safe to show."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

# What Telegram's HTML parse mode knows and the bot may send (bot/telegram/render.py sends <b> and <a href>).
TELEGRAM_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a"})
LINK_SCHEMES = frozenset({"http", "https", "tg", "mailto"})
# No script runs on these pages: even a text that slipped through unescaped could not run one.
_POLICY = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"


def e(text: object) -> str:
    """``text`` escaped for HTML text and double-quoted attribute values."""
    return escape(str(text), quote=True)


def page(title: str, body: str, css: str) -> str:
    """A whole page: English interface, phone-sized viewport, the site's one style sheet, no script."""
    return (
        '<!doctype html>\n<html lang="en" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
        '<meta name="robots" content="noindex">\n'
        f'<title>{e(title)}</title>\n<link rel="stylesheet" href="{e(css)}">\n</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def safe_link(url: str) -> str | None:
    """``url`` when it is an absolute link of a scheme a message may carry, else None."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in LINK_SCHEMES else None


class _Telegram(HTMLParser):
    """Keeps Telegram's formatting tags (a link only with a safe address) and escapes everything else."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.parts.append(e(self.get_starttag_text() or ""))
            return
        if tag == "a":
            href = safe_link(dict(attrs).get("href") or "")
            if href is None:
                self.parts.append(e(self.get_starttag_text() or ""))
                return
            self.parts.append(f'<a href="{e(href)}" rel="nofollow noopener noreferrer">')
        else:
            self.parts.append(f"<{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open:  # close what was left open inside it, as a browser would
                inner = self.open.pop()
                self.parts.append(f"</{inner}>")
                if inner == tag:
                    break
        else:
            self.parts.append(e(f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.parts.append(e(data))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(e(self.get_starttag_text() or ""))

    def handle_comment(self, data: str) -> None:
        self.parts.append(e(f"<!--{data}-->"))

    def handle_decl(self, decl: str) -> None:
        self.parts.append(e(f"<!{decl}>"))

    def handle_pi(self, data: str) -> None:
        self.parts.append(e(f"<?{data}>"))

    def unknown_decl(self, data: str) -> None:
        self.parts.append(e(f"<![{data}]>"))


def telegram_html(message: str) -> str:
    """A message in Telegram's HTML parse mode as the page shows it: <b>, <i>, <a href> ... kept, the rest escaped.
    Line breaks and the bidi isolates the bot inserted stay as they are (the bubble keeps white space)."""
    parser = _Telegram()
    parser.feed(message)
    parser.close()
    return "".join(parser.parts) + "".join(f"</{tag}>" for tag in reversed(parser.open))
