"""The review site without a browser: what each page says, escaping, lang/dir, and that every local link resolves."""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from bot.config import load_config
from bot.core.gaps import Gap, group
from bot.core.model import Knowledge, Source
from bot.site import add_arguments, cmd_site, read_worklist
from bot.site.build import write_site
from bot.site.html import telegram_html
from bot.site.parts import Options, Worklist
from bot.storage.engine import open_database
from bot.storage.gaps import SqlGaps
from tests.conftest import KNOWLEDGE_DIR

EVIL = '<script>alert("x")</script>'
TODAY = date(2026, 12, 6)


class Page(HTMLParser):
    """A written page: its links, ids, and the attributes and text of every element, in order."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.elements.append((tag, found))
        for name in ("href", "src"):
            if found.get(name) is not None:
                self.links.append(str(found[name]))
        if found.get("id"):
            self.ids.add(str(found["id"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_class(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for _, attrs in self.elements if name in (attrs.get("class") or "").split()]


def _section(html: str, lang: str) -> str:
    """The HTML of one language's section of a topic page."""
    start = html.index(f'<section id="{lang}"')
    return html[start : html.index("</section>", start)]


def _tampered(knowledge: Knowledge) -> Knowledge:
    """The real knowledge with the doctor topic changed: a hostile title and source, Arabic reviewed by a named
    person, the German text at revision 2 (so the others are outdated), no Tigrinya; and Somali all reviewed."""
    doctor = knowledge.topics["doctor"]
    tr = dict(doctor.translations)
    tr["de"] = tr["de"].model_copy(update={"title": f"Arzt {EVIL} & Co", "revision": 2})
    tr["ar"] = tr["ar"].model_copy(
        update={"status": "reviewed", "reviewed_by": "Amira <b>K.</b>", "checked": date(2025, 1, 2), "revision": 2}
    )
    tr["fa"] = tr["fa"].model_copy(update={"status": "draft", "revision": 1})
    tr.pop("ti", None)
    sources = (*doctor.sources, Source(body='<img src=x onerror="alert(1)">', note=EVIL))
    topics = {
        **knowledge.topics,
        "doctor": doctor.model_copy(update={"revision": 2, "translations": tr, "sources": sources}),
    }
    for topic_id, topic in topics.items():  # Somali all reviewed: only its doctor text is left to do (outdated)
        somali = topic.translations["so"].model_copy(update={"status": "reviewed"})
        topics[topic_id] = topic.model_copy(update={"translations": {**topic.translations, "so": somali}})
    return knowledge.model_copy(update={"topics": topics})


@pytest.fixture(scope="module")
def site(knowledge: Knowledge, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    now = time.time()
    gaps = group(
        [
            Gap.of("fallback", "ar", None, f"{EVIL} كيف أجد شقة رخيصة؟ اتصل 0176 1234567", now),
            Gap.of("fallback", "ar", "koeln", "كيف أجد شقة رخيصة", now),
            Gap.of("thumbs-down", "de", "koeln", "", now, topic="doctor"),
        ]
    )
    write_site(_tampered(knowledge), out, Worklist(tuple(gaps)), Options(today=TODAY, city=None))
    return out


def test_every_topic_has_a_page_and_every_local_link_resolves(site: Path, knowledge: Knowledge) -> None:
    pages = {path: Page(path) for path in site.rglob("*.html")}
    assert {p.name for p in pages} == {"index.html", *(f"{t}.html" for t in knowledge.topics)}
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme:
                assert parts.scheme in ("https", "http", "tg", "mailto"), (path.name, link)
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.exists(), f"{path.name}: {link} points nowhere"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in pages[target].ids, f"{path.name}: {link}: no such anchor"
            checked += 1
    assert checked > 25 * 12  # every language of every topic is linked from the index


def test_dynamic_text_is_escaped(site: Path) -> None:
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert "<script" not in html and "<img" not in html and 'onerror="' not in html, path.name
    doctor = (site / "topics" / "doctor.html").read_text(encoding="utf-8")
    assert "Arzt &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in doctor  # the page title and h1
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in doctor
    assert "&lt;script&gt;" in (site / "index.html").read_text(encoding="utf-8")  # the gap text, the topic link


def test_each_language_shows_its_status_reviewer_checked_day_and_whether_it_is_outdated(site: Path) -> None:
    html = (site / "topics" / "doctor.html").read_text(encoding="utf-8")
    arabic = _section(html, "ar")
    assert '<span class="badge s-reviewed">reviewed</span>' in arabic
    assert "<bdi>Amira &lt;b&gt;K.&lt;/b&gt;</bdi>" in arabic and "2025-01-02" in arabic
    assert "outdated" not in arabic and "2, up to date" in arabic
    persian = _section(html, "fa")
    assert '<span class="badge s-draft">draft</span>' in persian and "s-outdated" in persian
    assert "written for revision 1, the topic is at revision 2" in persian
    assert "nobody yet" in persian and "never" in persian
    english = _section(html, "en")
    assert "s-machine" in english and "s-outdated" in english
    assert "knowledge/topics/doctor/en.yaml" in english
    tigrinya = _section(html, "ti")
    assert "s-missing" in tigrinya and 'class="bubble"' not in tigrinya


def test_answers_are_the_bots_telegram_messages_with_lang_and_direction(site: Path, knowledge: Knowledge) -> None:
    page = Page(site / "topics" / "doctor.html")
    bubbles = page.with_class("bubble")
    shown = {attrs["lang"]: attrs["dir"] for attrs in bubbles}
    for code, language in knowledge.languages.items():
        if code != "ti":
            assert shown[code] == language.direction, code
    assert {shown[code] for code in ("ar", "fa", "ps")} == {"rtl"} and shown["de"] == "ltr"
    arabic = _section((site / "topics" / "doctor.html").read_text(encoding="utf-8"), "ar")
    bubble = arabic[arabic.index('<div class="bubble"') :]
    assert bubble.count("\u2066") == bubble.count("\u2069") > 0  # the bot's bidi isolates, untouched
    assert '<div class="bubble" lang="ar" dir="rtl"><b>' in arabic  # Telegram's <b> title kept as markup
    assert '<div class="keyboard" lang="ar" dir="rtl">' in arabic
    assert "What the “More” button shows" in arabic  # the rest of the answer


def test_the_index_lists_coverage_outdated_unreviewed_and_the_gaps(site: Path) -> None:
    index = Page(site / "index.html")
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "Outdated translations (9)" in html  # doctor at revision 2: 12 languages but de, ar and the missing ti
    assert "topics/doctor.html#fa" in index.links and "topics/doctor.html#en" in index.links
    assert "todo-fa" in index.ids and "#todo-fa" in index.links
    assert "todo-so" not in index.ids and '<a href="#outdated">1 to review</a>' in html  # Somali: only outdated
    assert "checked more than 180 days ago (1)" in html and "topics/doctor.html#ar" in index.links  # 2025-01-02
    gaps = html[html.index('<section id="gaps">') :]
    assert "3×" not in gaps and "2×" in gaps  # the two flat questions are one group, the 👎 another
    assert "[number]" in gaps and "1234567" not in gaps  # scrubbed when recorded
    assert '<li lang="ar" dir="auto">' in gaps
    assert 'href="topics/doctor.html"' in gaps  # the 👎's topic


def test_telegram_html_keeps_formatting_and_escapes_the_rest() -> None:
    message = (
        '<b>Title</b>\n<i>x</i> <script>alert(1)</script> <a href="javascript:alert(1)">bad</a> '
        '<a href="https://www.openstreetmap.org/search?query=A%201&amp;b=2">map</a> <b>open'
    )
    assert telegram_html(message) == (
        "<b>Title</b>\n<i>x</i> &lt;script&gt;alert(1)&lt;/script&gt; "
        '&lt;a href=&quot;javascript:alert(1)&quot;&gt;bad&lt;/a&gt; '
        '<a href="https://www.openstreetmap.org/search?query=A%201&amp;b=2" rel="nofollow noopener noreferrer">map</a> '
        "<b>open</b>"
    )  # fmt: skip


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cmd_site_without_the_database_says_so_in_one_line(tmp_path: Path) -> None:
    config = load_config({"KNOWLEDGE_DIR": str(KNOWLEDGE_DIR), "DATABASE_URL": "sqlite:////nonexistent/x/lotse.db"})
    out = io.StringIO()
    assert cmd_site(_args(str(tmp_path / "a"), "--city", "koeln"), config, out) == 0
    assert "database error" in out.getvalue()  # the reason in the terminal, not on the page
    index = (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert "The unanswered questions could not be read from the database this time." in index
    assert "as for a person in Köln" in index
    assert cmd_site(_args(str(tmp_path / "b"), "--no-gaps"), config, out) == 0
    assert "left out of this site (--no-gaps)" in (tmp_path / "b" / "index.html").read_text(encoding="utf-8")
    assert cmd_site(_args(str(tmp_path / "c"), "--city", "atlantis"), config, out) == 2
    assert cmd_site(_args(str(tmp_path / "c"), "--edit-url", "javascript:alert(1)//"), config, out) == 2


def test_the_worklist_comes_from_the_database_as_gaps_reads_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lotse.db'}"
    assert read_worklist(url, 14 * 86400, io.StringIO()).groups == ()  # a fresh database: no gaps
    store = SqlGaps(open_database(url))
    now = time.time()
    asyncio.run(store.record(Gap.of("fallback", "uk", "moers", "де купити велосипед", now)))
    asyncio.run(store.record(Gap.of("fallback", "uk", None, "де купити велосипед дешево", now - 30 * 86400)))
    worklist = read_worklist(url, 14 * 86400, io.StringIO())
    assert [g.texts() for g in worklist.groups] == [["де купити велосипед"]]
    assert worklist.note is None and worklist.days == 14


def test_edit_links_point_to_the_language_file(knowledge: Knowledge, tmp_path: Path) -> None:
    options = Options(today=TODAY, edit_url="https://git.example.org/lotse/-/edit/main/")
    write_site(knowledge, tmp_path, Worklist(), options)
    page = Page(tmp_path / "topics" / "doctor.html")
    assert "https://git.example.org/lotse/-/edit/main/knowledge/topics/doctor/ar.yaml" in page.links


def test_python_m_bot_site_writes_the_site(tmp_path: Path) -> None:
    from bot.cli import main

    out = io.StringIO()
    assert main(["site", str(tmp_path / "site"), "--no-gaps"], out) == 0
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "topics" / "pharmacy.html").is_file()
    assert "wrote" in out.getvalue()
