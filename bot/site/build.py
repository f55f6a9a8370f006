"""Writing the review site: every topic in every language as Telegram shows it, coverage, the gaps worklist."""

from __future__ import annotations

from pathlib import Path

from bot.core.conversation import Conversation
from bot.core.coverage import coverage, stale
from bot.core.dialogue import Dialogue
from bot.core.matcher import build_index
from bot.core.model import Knowledge
from bot.core.replies import Profile, Reply
from bot.site.index_page import index_page
from bot.site.parts import STYLE, TOPICS, Options, Shown, Worklist, topic_file
from bot.site.style import CSS
from bot.site.topic_page import topic_page
from bot.telegram.render import to_html


def shown_topics(knowledge: Knowledge, city: str | None, locales_dir: Path) -> dict[str, dict[str, Shown]]:
    """Topic -> language -> what a person asking in that language gets, through the bot's own conversation and
    Telegram rendering (the same text, buttons and bidi isolates). Only languages the topic is written in."""
    conversation = Conversation(Dialogue(knowledge, build_index(knowledge), locales_dir, detector=None))
    found: dict[str, dict[str, Shown]] = {}
    for topic in knowledge.topics.values():
        found[topic.id] = {}
        for lang in knowledge.languages:
            if lang not in topic.translations:
                continue
            reply = conversation.topic_reply(topic.id, lang, city)
            more = conversation.on_more(Profile(0, lang=lang, city=city, step="ready"), topic.id).replies[0]
            found[topic.id][lang] = Shown(
                tuple(to_html(reply)), _labels(reply), tuple(to_html(more)) if more.kind == "more" else None
            )
    return found


def _labels(reply: Reply) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(button.label for button in row) for row in reply.buttons)


def write_site(knowledge: Knowledge, out: Path, worklist: Worklist, options: Options) -> list[Path]:
    """Write the site into ``out`` (made if missing; topic pages of topics that no longer exist are removed) and
    return the files written."""
    if options.city is not None and options.city not in knowledge.cities:
        raise ValueError(f"unknown city '{options.city}'; known: {', '.join(knowledge.cities)}")
    cov = coverage(knowledge)
    shown = shown_topics(knowledge, options.city, options.locales_dir)
    (out / TOPICS).mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, text: str) -> None:
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)

    write(STYLE, CSS)
    write("index.html", index_page(knowledge, cov, stale(knowledge, options.today, options.older_than_days),
                                   worklist, options))  # fmt: skip
    for topic in knowledge.topics.values():
        write(topic_file(topic.id), topic_page(topic, knowledge, cov.topics[topic.id], shown[topic.id], options))
    for old in (out / TOPICS).glob("*.html"):
        if old not in written:
            old.unlink()
    return written
