"""One page per topic: every language side by side, each with its review state and the answer as Telegram shows
it (a message bubble with the bot's own HTML, its buttons, and what "More" shows)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.coverage import Status
from bot.core.model import Knowledge, Source, Topic
from bot.site.html import e, page, safe_link, telegram_html
from bot.site.parts import STYLE, Options, Shown, badge, edit_path, file_link, state_word

SOURCE_LANG = "de"  # a topic's revision follows the meaning of its German text (knowledge/README.md)
_STATUS_MEANS = {
    "machine": "drafted by a program; nobody has checked it",
    "draft": "written by a person; a second speaker should check it",
    "reviewed": "checked by a native speaker",
}


def topic_page(
    topic: Topic, knowledge: Knowledge, row: Mapping[str, Status], shown: Mapping[str, Shown], options: Options
) -> str:
    """The page of ``topic``; ``row`` is its line of the coverage table, ``shown`` what each language shows."""
    title = _title(topic)
    chips = "".join(_chip(code, topic, knowledge, row) for code in knowledge.languages)
    related = ", ".join(
        f'<a href="{e(rid)}.html">{e(_title(knowledge.topics[rid]))}</a>'
        for rid in topic.related
        if rid in knowledge.topics
    )
    related = f" · related: {related}" if related else ""
    city = knowledge.cities.get(options.city) if options.city else None
    seen_as = (
        f"Answers as a person in {e(city.name('de'))} sees them."
        if city
        else "Answers as a person sees them before choosing a city."
    )
    sections = "\n".join(
        _section(topic, code, knowledge, row[code], shown.get(code), options) for code in knowledge.languages
    )
    body = f"""<header class="top">
<p><a href="../index.html">← All topics</a></p>
<h1>{e(title)} <small>{e(topic.id)}</small></h1>
<p class="meta">Area: {e(topic.category)} · topic revision {topic.revision}{related}</p>
<p class="meta">{seen_as} A language link shows that language beside the German text.</p>
<nav class="chips" aria-label="Languages"><a href="#languages">All languages</a>{chips}</nav>
</header>
<main id="languages" class="langs">
{sections}
</main>
<section class="bottom" id="sources">
<h2>Sources</h2>
<p class="muted">Where the facts of this topic come from (all languages share them).</p>
<ul>{"".join(f"<li>{_source(s)}</li>" for s in topic.sources)}</ul>
<footer>Made {e(options.today.isoformat())} by <code>python -m bot site</code>. What all languages share:
{file_link(options, f"knowledge/topics/{topic.id}/topic.yaml")}</footer>
</section>"""  # fmt: skip
    return page(f"{title} ({topic.id}) · Lotse review", body, f"../{STYLE}")


def _title(topic: Topic) -> str:
    source = topic.translations.get(SOURCE_LANG) or next(iter(topic.translations.values()))
    return source.title


def _chip(code: str, topic: Topic, knowledge: Knowledge, row: Mapping[str, Status]) -> str:
    language = knowledge.languages[code]
    mark = badge(state_word(row[code], topic.translations.get(code)))
    name = f'<span lang="{e(code)}" dir="{e(language.direction)}">{e(language.native)}</span>'
    return f'<a href="#{e(code)}">{name} {mark}</a>'


def _section(
    topic: Topic, code: str, knowledge: Knowledge, status: Status, shown: Shown | None, options: Options
) -> str:
    language = knowledge.languages[code]
    attrs = f'lang="{e(code)}" dir="{e(language.direction)}"'
    classes = "lang source" if code == SOURCE_LANG else "lang"
    name = f'<span class="muted">{e(language.english)} · {e(code)}</span>'
    head = f"<h2><span {attrs}>{e(language.native)}</span> {name}</h2>"
    path = edit_path(topic.id, code)
    tr = topic.translations.get(code)
    if tr is None or shown is None:
        return f"""<section id="{e(code)}" class="{classes}">
<header>{head}<dl class="facts"><dt>Status</dt><dd>{badge("missing")} not translated yet</dd>
<dt>File</dt><dd>{file_link(options, path)} (to create: copy the German file and translate it)</dd></dl></header>
<p class="none">No {e(language.english)} text yet: a person asking in {e(language.english)} gets another language.</p>
</section>"""  # fmt: skip
    outdated = f" {badge('outdated')}" if status == "outdated" else ""
    if topic.outdated(code):
        revision = (
            f'<span class="warn">outdated</span>: written for revision {tr.revision}, the topic is at revision '
            f"{topic.revision} (the German text changed since)"
        )
    else:
        revision = f"{tr.revision}, up to date"
    reviewer = f"<bdi>{e(tr.reviewed_by)}</bdi>" if tr.reviewed_by else '<span class="muted">nobody yet</span>'
    checked = e(tr.checked.isoformat()) if tr.checked else '<span class="muted">never</span>'
    bubbles = "".join(f'<div class="bubble" {attrs}>{telegram_html(m)}</div>' for m in shown.messages)
    rows = "".join(
        '<div class="row">' + "".join(f'<span class="key">{e(label)}</span>' for label in row) + "</div>"
        for row in shown.buttons
    )
    more = ""
    if shown.more:
        more_bubbles = "".join(f'<div class="bubble" {attrs}>{telegram_html(m)}</div>' for m in shown.more)
        more = f"<details><summary>What the “More” button shows</summary>{more_bubbles}</details>"
    return f"""<section id="{e(code)}" class="{classes}">
<header>{head}<dl class="facts">
<dt>Status</dt><dd>{badge(tr.status)}{outdated} {e(_STATUS_MEANS.get(tr.status, ""))}</dd>
<dt>Reviewed by</dt><dd>{reviewer}</dd>
<dt>Checked</dt><dd>{checked}</dd>
<dt>Revision</dt><dd>{revision}</dd>
<dt>File</dt><dd>{file_link(options, path)}</dd>
</dl></header>
<div class="chat">{bubbles}<div class="keyboard" {attrs}>{rows}</div>{more}</div>
</section>"""  # fmt: skip


def _source(source: Source) -> str:
    parts = []
    if source.seed:
        parts.append(f"seed text <code>{e(source.seed)}</code>")
    if source.body:
        parts.append(f"<bdi>{e(source.body)}</bdi>")
    if source.url:
        link = safe_link(source.url)
        parts.append(f'<a href="{e(link)}" rel="noopener noreferrer">{e(source.url)}</a>' if link else e(source.url))
    if source.note:
        parts.append(f'<span class="muted"><bdi>{e(source.note)}</bdi></span>')
    return " · ".join(parts)
