"""The review site's index: coverage per language and per city, what to review, and the gaps worklist."""

from __future__ import annotations

from collections import Counter

from bot.core.coverage import CITY_KINDS, Coverage, Stale
from bot.core.gaps import GapGroup
from bot.core.model import Knowledge
from bot.site.html import e, page
from bot.site.parts import STYLE, Options, Worklist, badge, file_link, state_word, topic_file

_KIND_MEANS = {
    "fallback": "no answer",
    "clarify": "topics offered, none chosen",
    "thumbs-down": "👎 on an answer",
    "not-emergency": "taken for an emergency, was none",
}
MAX_GROUPS = 60
MAX_TEXTS = 5


def index_page(knowledge: Knowledge, cov: Coverage, old: Stale, worklist: Worklist, options: Options) -> str:
    """The index page."""
    body = "\n".join(
        [
            _head(knowledge, cov, options),
            _languages(knowledge, cov),
            _matrix(knowledge, cov),
            _outdated(knowledge, old, options.older_than_days),
            _unreviewed(knowledge, cov),
            _cities(knowledge, cov, old, options),
            _gaps(knowledge, worklist),
            f"<footer>Made {e(options.today.isoformat())} by <code>python -m bot site</code>.</footer>\n</main>",
        ]
    )
    return page("Lotse review site", body, STYLE)


def _title(knowledge: Knowledge, topic_id: str) -> str:
    translations = knowledge.topics[topic_id].translations
    return (translations.get("de") or next(iter(translations.values()))).title


def _topic_link(knowledge: Knowledge, topic_id: str, lang: str | None = None) -> str:
    href = topic_file(topic_id) + (f"#{lang}" if lang else "")
    return f'<a href="{e(href)}">{e(_title(knowledge, topic_id))}</a>'


def _language(knowledge: Knowledge, code: str) -> str:
    language = knowledge.languages[code]
    return f'<span lang="{e(code)}" dir="{e(language.direction)}">{e(language.native)}</span> · {e(language.english)}'


def _head(knowledge: Knowledge, cov: Coverage, options: Options) -> str:
    total = len(cov.topics) * len(cov.languages)
    reviewed = cov.count("ok")
    return f"""<main>
<header class="top">
<h1>Lotse review site</h1>
<p>What Lotse tells people in Telegram, topic by topic and language by language, for the people who speak these
languages to check. {len(knowledge.topics)} topics, {len(knowledge.languages)} languages, {len(knowledge.cities)}
cities: {reviewed} of {total} texts are reviewed and up to date.</p>
<nav class="jump"><a href="#languages">Languages</a><a href="#topics">Topics</a><a href="#outdated">Outdated</a>
<a href="#unreviewed">Not reviewed</a><a href="#cities">Cities</a><a href="#gaps">Unanswered questions</a></nav>
</header>
<section class="card" id="help">
<h2>How to help</h2>
<ol>
<li>Find your language below and open a topic. Each topic shows its answer exactly as a person gets it in Telegram.</li>
<li>Read it as someone who has just arrived would. Is it correct, clear and polite? Would you understand it?</li>
<li>Tell the team what is wrong, or change the file named under the answer. When the text reads well, set
<code>status: reviewed</code>, <code>reviewed_by:</code> your name and <code>checked:</code> today's date.</li>
</ol>
<p class="muted">Status: {badge("reviewed")} a native speaker checked it, {badge("draft")} a person wrote it, nobody
checked it yet, {badge("machine")} a program drafted it, {badge("outdated")} the German text changed since it was
translated, {badge("missing")} not translated yet.{_city_note(knowledge, options)}</p>
</section>"""  # fmt: skip


def _city_note(knowledge: Knowledge, options: Options) -> str:
    city = knowledge.cities.get(options.city) if options.city else None
    if city is None:
        return " Answers are shown as for a person who has not chosen a city yet."
    return f" Answers are shown as for a person in {e(city.name('de'))}."


def _languages(knowledge: Knowledge, cov: Coverage) -> str:
    rows = []
    for code in knowledge.languages:
        states = Counter(
            state_word(cov.topics[t.id][code], t.translations.get(code)) for t in knowledge.topics.values()
        )
        cells = "".join(
            f'<td class="n">{states[s]}</td>' for s in ("reviewed", "draft", "machine", "outdated", "missing")
        )
        to_do = states["draft"] + states["machine"] + states["outdated"]
        where = f"#todo-{code}" if states["draft"] + states["machine"] else "#outdated"  # see _unreviewed
        link = f'<a href="{e(where)}">{to_do} to review</a>' if to_do else "nothing to review"
        rows.append(f"<tr><td>{_language(knowledge, code)}</td>{cells}<td>{link}</td></tr>")
    head = "".join(f"<th>{badge(s)}</th>" for s in ("reviewed", "draft", "machine", "outdated", "missing"))
    return f"""<section id="languages"><h2>Languages</h2>
<div class="scroll"><table><tr><th>language</th>{head}<th></th></tr>
{"".join(rows)}</table></div></section>"""  # fmt: skip


def _matrix(knowledge: Knowledge, cov: Coverage) -> str:
    head = "".join(f'<th title="{e(knowledge.languages[c].english)}">{e(c)}</th>' for c in cov.languages)
    rows = []
    for topic in knowledge.topics.values():
        cells = "".join(
            f'<td class="cell"><a href="{e(topic_file(topic.id))}#{e(code)}">'
            f"{badge(state_word(cov.topics[topic.id][code], topic.translations.get(code)))}</a></td>"
            for code in cov.languages
        )
        rows.append(
            f"<tr><td>{_topic_link(knowledge, topic.id)} <small class=muted>{e(topic.id)}</small></td>{cells}</tr>"
        )
    return f"""<section id="topics"><h2>Topics</h2>
<p class="muted">Every topic in every language; a cell opens that language beside the German text.</p>
<div class="scroll"><table><tr><th>topic</th>{head}</tr>
{"".join(rows)}</table></div></section>"""  # fmt: skip


def _outdated(knowledge: Knowledge, old: Stale, days: int) -> str:
    if not old.outdated:
        items = "<p>None: every translation follows the current German text.</p>"
    else:
        lines = []
        for topic_id, lang in old.outdated:
            topic = knowledge.topics[topic_id]
            lines.append(
                f"<li>{_topic_link(knowledge, topic_id, lang)} in {_language(knowledge, lang)}: written for revision "
                f"{topic.translations[lang].revision}, the topic is at revision {topic.revision}</li>"
            )
        items = f"<ul>{''.join(lines)}</ul>"
    long_ago = "".join(
        f"<li>{_topic_link(knowledge, topic_id, lang)} in {_language(knowledge, lang)}: checked "
        f"{e(day.isoformat())}</li>"
        for topic_id, lang, day in old.not_checked
    )
    return f"""<section id="outdated"><h2>Outdated translations ({len(old.outdated)})</h2>
<p class="muted">The German text changed after these were translated: compare them with it and bring them up to
date.</p>
{items}
<h3>Reviewed, but checked more than {days} days ago ({len(old.not_checked)})</h3>
{f"<ul>{long_ago}</ul>" if long_ago else "<p>None.</p>"}</section>"""  # fmt: skip


def _unreviewed(knowledge: Knowledge, cov: Coverage) -> str:
    parts = []
    for code in knowledge.languages:
        found = [t for t in knowledge.topics.values() if cov.topics[t.id][code] == "unreviewed"]
        if not found:
            continue
        items = "".join(
            f"<li>{_topic_link(knowledge, t.id, code)} {badge(t.translations[code].status)}</li>" for t in found
        )
        parts.append(
            f'<details id="todo-{e(code)}"><summary>{_language(knowledge, code)}: {len(found)}</summary>'
            f"<ul>{items}</ul></details>"
        )
    total = cov.count("unreviewed")
    shown = "".join(parts) or "<p>None: a native speaker has checked every text.</p>"
    return f"""<section id="unreviewed"><h2>Not reviewed yet ({total})</h2>
<p class="muted">Texts no native speaker has checked yet (outdated ones are listed above), by language.</p>
{shown}</section>"""  # fmt: skip


def _cities(knowledge: Knowledge, cov: Coverage, old: Stale, options: Options) -> str:
    head = "".join(f"<th>{e(kind)}</th>" for kind in CITY_KINDS)
    rows = []
    for slug, kinds in cov.city_details.items():
        cells = "".join(f'<td class="cell">{e(kinds[kind])}</td>' for kind in CITY_KINDS)
        city = knowledge.cities[slug]
        rows.append(
            f"<tr><td>{e(city.name('de'))} <small class=muted>{e(slug)}</small></td>{cells}"
            f'<td class="n">{cov.city_fields[slug]["contacts"]}</td></tr>'
        )
    aged = "".join(f"<li>{e(c)}: {e(n)} (read {e(seen.isoformat())})</li>" for c, n, seen in old.old_contacts)
    undated = "".join(f"<li>{e(c)}: {e(n)}</li>" for c, n in old.undated)
    return f"""<section id="cities"><h2>Cities</h2>
<p class="muted">What the best contact of each kind gives a person: A address, P phone, H opening hours, U web page;
n a name only; - none yet (the bot then points to the integration centre or Service Point). Contacts are edited in
{file_link(options, "knowledge/cities/")} (one file per city).</p>
<div class="scroll"><table><tr><th>city</th>{head}<th>contacts</th></tr>
{"".join(rows)}</table></div>
<h3>Contacts whose source was read more than {options.older_than_days} days ago ({len(old.old_contacts)})</h3>
{f"<ul>{aged}</ul>" if aged else "<p>None.</p>"}
<h3>Contacts from a web page without the day it was read ({len(old.undated)})</h3>
{f"<ul>{undated}</ul>" if undated else "<p>None.</p>"}
</section>"""  # fmt: skip


def _gaps(knowledge: Knowledge, worklist: Worklist) -> str:
    intro = (
        f"What people asked in the last {worklist.days:g} days that Lotse could not answer well, similar questions "
        "together, the largest group first. Nothing here says who asked; numbers and addresses are masked."
    )
    if worklist.note is not None:
        shown = f"<p>{e(worklist.note)}</p>"
    elif not worklist.groups:
        shown = "<p>No unanswered questions recorded in this period.</p>"
    else:
        groups = "".join(_group(knowledge, g) for g in worklist.groups[:MAX_GROUPS])
        more = len(worklist.groups) - MAX_GROUPS
        shown = f'<ol class="gaps">{groups}</ol>' + (f"<p>… and {more} more groups.</p>" if more > 0 else "")
    return f"""<section id="gaps"><h2>Unanswered questions</h2>
<p class="muted">{intro}</p>
{shown}</section>"""  # fmt: skip


def _group(knowledge: Knowledge, group: GapGroup) -> str:
    kinds = ", ".join(_KIND_MEANS.get(k, k) for k in group.kinds())
    langs = ", ".join(_language(knowledge, c) if c in knowledge.languages else e(c) for c in group.languages())
    cities = ", ".join(sorted({e(g.city) for g in group.gaps if g.city})) or "no city"
    topics = ", ".join(_topic_link(knowledge, t) if t in knowledge.topics else e(t) for t in group.topics()[:3])
    lang_of = {g.text: g.lang for g in reversed(group.gaps)}  # the language the text was asked in
    texts = group.texts()
    items = "".join(f'<li lang="{e(lang_of[t])}" dir="auto">{e(t)}</li>' for t in texts[:MAX_TEXTS])
    if len(texts) > MAX_TEXTS:
        items += f"<li>… and {len(texts) - MAX_TEXTS} more</li>"
    return (
        f"<li><strong>{group.count}×</strong> {kinds} · {langs} · {cities}"
        f"{' · the bot thought of: ' + topics if topics else ''}"
        f"{f'<ul class=texts>{items}</ul>' if items else ''}</li>"
    )
