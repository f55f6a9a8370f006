"""Stubs from the gaps worklist (``python -m bot gaps --yaml DIR``): what a volunteer pastes into the knowledge.

- A group the matcher connects with an existing topic becomes ``examples/<topic>/<lang>.yaml``: the questions of
  that language the topic does not have yet, as ``examples:`` lines to copy into ``topics/<topic>/<lang>.yaml``.
- A group no topic covers becomes a new topic skeleton ``new-topics/new-topic-<n>/`` (``topic.yaml`` and one file per
  language of its questions, German and English always): the questions as examples, the words they share as
  keywords, and empty ``title``, ``answer`` and ``sources``. Moved into ``topics/`` (and renamed), it passes
  ``check`` once a volunteer has written the title and the answer, cited a source and, for a language none of the
  questions was in, added example questions and keywords: ``check`` names each of those lines until then.

Nothing here invents content: every example is a question someone asked (scrubbed), every keyword a word from them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date

import stopwordsiso

from bot.core.gaps import GapGroup
from bot.core.model import Knowledge
from bot.core.normalize import tokens
from bot.core.yaml_write import dump

REQUIRED = ("de", "en")
KEYWORDS = 6
_MIN_KEYWORD = 4  # letters: shorter words are mostly function words


def stubs(groups: Sequence[GapGroup], knowledge: Knowledge, today: date, limit: int = 30) -> dict[str, str]:
    """File path (relative, ``/``-separated) -> text, for the ``limit`` largest groups."""
    found: dict[str, dict[str, list[str]]] = {}  # topic -> language -> new example questions
    files: dict[str, str] = {}
    new = 0
    for group in groups[:limit]:
        texts = {(g.lang, g.text) for g in group.gaps if g.text}
        if not texts:
            continue  # 👎 without a question: nothing to paste
        topic = next((t for t in group.topics() if t in knowledge.topics), None)
        if topic is not None:
            for lang, text in sorted(texts):
                translation = knowledge.topics[topic].translations.get(lang)
                known = {e.casefold() for e in translation.examples} if translation else set()
                questions = found.setdefault(topic, {}).setdefault(lang, [])
                if text.casefold() not in known and text not in questions:
                    questions.append(text)
            continue
        new += 1
        files |= _skeleton(f"new-topic-{new}", group, today)
    for topic, languages in found.items():
        for lang, questions in languages.items():
            if questions:
                files[f"examples/{topic}/{lang}.yaml"] = _examples(topic, lang, questions, today)
    return files


def _examples(topic: str, lang: str, questions: list[str], today: date) -> str:
    header = (
        f"From the gaps list of {today.isoformat()}: questions in '{lang}' that Lotse did not answer well\n"
        f"and that look like topic '{topic}'. Keep those that belong to it: copy their lines under\n"
        f"'examples:' in topics/{topic}/{lang}.yaml (the words people used under 'keywords:'), then: make check"
    )
    return dump({"examples": questions}, header=header)


def keywords(questions: Sequence[str], lang: str) -> list[str]:
    """The words the questions share most, as people wrote them (no function words of ``lang``: stopwords-iso),
    more frequent and then longer words first."""
    stop = {t for word in stopwordsiso.stopwords(lang) for t in tokens(word)} if stopwordsiso.has_lang(lang) else set()
    written: dict[str, str] = {}  # normalised -> first spelling seen
    counted: Counter[str] = Counter()
    for text in questions:
        seen: set[str] = set()
        for word in re.findall(r"\w+", text.casefold()):
            key = " ".join(tokens(word))
            if len(word) < _MIN_KEYWORD or not key or key in stop or key in seen or word.isdigit():
                continue
            seen.add(key)
            written.setdefault(key, word)
            counted[key] += 1
    ranked = sorted(counted, key=lambda k: (-counted[k], -len(k), k))
    return [written[key] for key in ranked[:KEYWORDS]]


def _skeleton(topic_id: str, group: GapGroup, today: date) -> dict[str, str]:
    folder = f"new-topics/{topic_id}"
    by_lang: dict[str, list[str]] = {lang: [] for lang in REQUIRED}
    for gap in group.gaps:
        if gap.text and gap.text not in by_lang.setdefault(gap.lang, []):
            by_lang[gap.lang].append(gap.text)
    shared = {"category": "daily-life", "related": [], "revision": 1, "sources": []}
    comments = {
        "category": "choose: health, documents, learning, work-money, family-school, daily-life or help",
        "sources": "where the answer's facts come from: at least one seed file, official body or page",
    }
    header = (
        f"A new topic from the gaps list of {today.isoformat()} ({group.count} questions). Rename the folder\n"
        "to the topic's id, move it into topics/, write the answer in each language and run: make check"
    )
    files = {f"{folder}/topic.yaml": dump(shared, comments, header)}
    for lang, questions in by_lang.items():
        data = {"title": "", "status": "draft", "reviewed_by": None, "checked": None, "revision": 1, "answer": "",
                "examples": questions, "keywords": keywords(questions, lang)}  # fmt: skip
        notes = {"title": "what the answer is about, in a few words", "answer": "write it (see knowledge/README.md)"}
        if not questions:
            notes["examples"] = "no one asked in this language yet: add a few questions as people would type them"
        lead = (f"{topic_id} in '{lang}': the questions below were asked; keep those that fit, add more. German and\n"
                "English are required; other languages may follow.")  # fmt: skip
        files[f"{folder}/{lang}.yaml"] = dump(data, notes, lead)
    return files
