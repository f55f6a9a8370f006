"""The conversation: onboarding, questions, menus and settings as pure decisions over a stored profile.

Every edge (Telegram, the terminal) turns its input into one of the ``on_*`` calls below, stores the returned
profile and shows the returned replies. Nothing here knows Telegram or the database; per-user state lives only in
:class:`Profile`, which the caller keeps in its store.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from bot.core.dialogue import Decision
from bot.core.gaps import Gap, GapKind
from bot.core.render import contacts_text
from bot.core.replies import Button, MediaKind, Outcome, Profile, Reply, Step
from bot.core.towns import Towns

COUNTER_LANG = "de"  # the language of offices and counters
WARM_TOPICS = 50  # topics rendered in every language at start (today's 25 all)


def _choice(topic_id: str, token: str | None) -> str:
    """A clarify's choice button: the topic, and the gap's token when it fits Telegram's 64 bytes."""
    data = f"t:{topic_id}:{token}" if token else f"t:{topic_id}"
    return data if len(data.encode()) <= 64 else f"t:{topic_id}"


def _title_and_body(text: str, *, fell_back: bool) -> tuple[str, str]:
    """Split a topic text into its title and its body; a fallback-language note stays at the head of the body."""
    if not fell_back:
        title, _, body = text.partition("\n\n")
        return title, body
    note, _, rest = text.partition("\n\n")
    title, _, body = rest.partition("\n\n")
    return title, f"{note}\n\n{body}"


class Conversation(Towns):
    """Turns events of one person into replies; stateless apart from the profile passed in."""

    def topic_reply(self, topic_id: str, lang: str | None, city: str | None, kind: str = "answer") -> Reply:
        """A topic's answer with buttons: related topics, feedback, talk to a person."""
        t = self.t(lang)
        code = self.dialogue.language(lang)
        text, shown = self.dialogue.topic_text(topic_id, code, city)
        title, body = _title_and_body(text, fell_back=shown != code)
        topic = self.knowledge.topics[topic_id]
        related = [
            Button("➡ " + self.dialogue.title(rid, code), f"t:{rid}")
            for rid in topic.related
            if rid in self.knowledge.topics
        ][:3]
        rows: list[tuple[Button, ...]] = []
        if self.dialogue.topic_more(topic_id, code, city):
            rows.append((Button(t.gettext("➕ More"), f"more:{topic_id}"),))
        rows += [(b,) for b in related]
        if kind == "answer":
            rows.append((Button("👍", f"fb:up:{topic_id}"), Button("👎", f"fb:down:{topic_id}")))
        if code != COUNTER_LANG:  # to show at a counter or to a neighbour who reads German
            rows.append((Button(t.gettext("🇩🇪 Show in German"), f"de:{topic_id}"),))
        rows.append((Button(t.gettext("💬 Talk to a person"), "human"), Button(t.gettext("☰ Menu"), "menu")))
        return Reply(
            body,
            title=title,
            buttons=tuple(rows),
            direction=self.knowledge.languages[shown].direction,
            kind=kind,
            places=self.places(city),
        )

    def places(self, city: str | None) -> tuple[tuple[str, str], ...]:
        """The street addresses of ``city``'s contacts as answers show them, each with what to search on a map
        (the address, with the city's name when the address lacks it); the edge links them."""
        found = self.knowledge.cities.get(city) if city else None
        if found is None:
            return ()
        name = found.name(COUNTER_LANG)  # the city as the map (and the counter) writes it
        addresses = dict.fromkeys(c.address for c in found.contacts if c.address)
        return tuple((a, a if name.lower() in a.lower() else f"{a}, {name}") for a in addresses)

    def on_more(self, profile: Profile, topic_id: str) -> Outcome:
        """The rest of a topic's answer (the "More" button)."""
        code = self.dialogue.language(profile.lang)
        more = self.dialogue.topic_more(topic_id, code, profile.city) if topic_id in self.knowledge.topics else None
        if more is None:
            return Outcome(profile, (self.menu(profile.lang),))
        shown = self.dialogue.render(topic_id, code, profile.city)
        t = self.t(profile.lang)
        reply = Reply(
            more,
            title=shown.title,
            buttons=((Button(t.gettext("💬 Talk to a person"), "human"), Button(t.gettext("☰ Menu"), "menu")),),
            direction=self.knowledge.languages[shown.lang].direction,
            kind="more",
            places=self.places(profile.city),
        )
        return Outcome(profile, (reply,))

    def in_german(self, profile: Profile, topic_id: str) -> Outcome:
        """The topic's answer in German, under a line in the person's language saying whom to show it to."""
        if topic_id not in self.knowledge.topics:
            return Outcome(profile, (self.menu(profile.lang),))
        t = self.t(profile.lang)
        german = self.dialogue.render(topic_id, COUNTER_LANG, profile.city)
        title, body = german.title, german.text  # the short answer: what a clerk needs at a glance
        note = t.gettext("In German, to show at an office or to someone who can help:")
        reply = Reply(
            f"{title}\n\n{body}", title=note, direction="ltr", kind="german", places=self.places(profile.city)
        )
        return Outcome(profile, (reply,))

    # -- events ---------------------------------------------------------------------------------------------

    def on_start(self, profile: Profile | None, user_id: int, telegram_lang: str | None) -> Outcome:
        """/start: greet in the client's language when Lotse has it, else offer the language picker."""
        if profile is not None and profile.step == "ready":
            t = self.t(profile.lang)
            greeting = Reply(
                t.gettext("Welcome back! Ask me anything, or choose a topic."), direction=self.direction(profile.lang)
            )
            return Outcome(profile, (greeting, self.menu(profile.lang)))
        lang = (profile.lang if profile else None) or self.supported(telegram_lang)
        if lang is None:
            return Outcome(Profile(user_id, step="language"), (self.language_picker("en"),))
        profile = Profile(user_id, lang=lang, step="city")
        t = self.t(lang)
        hello = Reply(
            t.gettext(
                "Hello! I am Lotse. I answer questions about arriving in North Rhine-Westphalia: doctors, "
                "documents, German courses, work, school and more."
            ),
            buttons=((Button(t.gettext("🌐 Other language"), "lang:?"),),),
            direction=self.direction(lang),
        )
        return Outcome(profile, (hello, self.city_picker(lang)))

    def on_language(self, profile: Profile, code: str) -> Outcome:
        """A language was chosen (button or /language)."""
        if code == "?" or code not in self.knowledge.languages:
            return Outcome(profile, (self.language_picker(profile.lang),))
        step: Step = "city" if profile.step == "language" else profile.step
        profile = replace(profile, lang=code, step=step)
        t = self.t(code)
        done = Reply(t.gettext("Language: {language}").format(language=self.knowledge.languages[code].native))
        if step == "city":
            return Outcome(profile, (done, self.city_picker(code)))
        return Outcome(profile, (replace(done, direction=self.direction(code)),))

    def emergency_reply(self, decision: Decision) -> Reply:
        """The emergency answer, quoting the person's message, with "not an emergency – ask my question"."""
        lang = decision.lang
        t = self.t(lang)
        shown = decision.content_lang or lang
        title, body = _title_and_body(decision.text, fell_back=shown != lang)
        label = self.dialogue.emergency_line(lang, "not-emergency")
        rows = (
            *(((Button(label, "ne"),),) if label else ()),
            (Button(t.gettext("💬 Talk to a person"), "human"), Button(t.gettext("☰ Menu"), "menu")),
        )
        return Reply(
            body,
            title=title,
            buttons=rows,
            direction=self.knowledge.languages[shown].direction,
            kind="emergency",
            quote=True,
        )

    def on_text(self, profile: Profile, text: str, *, emergency: bool = True) -> Outcome:
        """A question in free text (``emergency=False``: the person said it is not an emergency)."""
        lang = self.dialogue.language(profile.lang)
        decision = self.dialogue.decide(text, lang, profile.city, emergency=emergency)
        if profile.step in ("city", "town") and decision.kind != "emergency":  # an emergency goes first, always
            chosen = self.town_choices(profile, text)
            if chosen is not None:
                return chosen
        t = self.t(lang)
        if decision.kind == "emergency":
            return Outcome(profile, (self.emergency_reply(decision),), decision)
        if decision.kind == "answer" and decision.topic:
            reply = self.topic_reply(decision.topic, lang, profile.city, kind=decision.kind)
            # answered after the person said it is no emergency: kept, the emergency words may need a look
            gap = None if emergency else self._gap("not-emergency", profile, text, decision)
            return Outcome(profile.saw(decision.topic), (reply,), decision, gap=gap)
        if decision.kind == "clarify":
            gap = self._gap("clarify", profile, text, decision)
            buttons: list[tuple[Button, ...]] = [
                (Button(self.dialogue.title(c, lang), _choice(c, gap.token)),) for c in decision.candidates
            ]
            buttons.append((Button(t.gettext("💬 Talk to a person"), "human"), Button(t.gettext("☰ Menu"), "menu")))
            reply = Reply(
                t.gettext("I am not sure what you mean. Please choose a topic:")
                + "\n"
                + self.dialogue.safety_line(lang),
                buttons=tuple(buttons),
                direction=self.direction(lang),
                kind="clarify",
            )
            return Outcome(profile, (reply,), decision, gap=gap)
        if decision.kind == "handoff":
            return Outcome(profile, (), decision, handoff=True)
        person = ((Button(t.gettext("💬 Talk to a person"), "human"), Button(t.gettext("☰ Menu"), "menu")),)
        reply = Reply(decision.text, buttons=person, direction=self.direction(lang), kind="fallback")
        kind: GapKind = "fallback" if emergency else "not-emergency"
        return Outcome(profile, (reply,), decision, gap=self._gap(kind, profile, text, decision))

    def on_topic(self, profile: Profile, topic_id: str) -> Outcome:
        """A topic was tapped (menu, related topic, or a clarify's choice: ``<topic>:<token>``, which answers that
        clarify's gap)."""
        topic_id, _, token = topic_id.partition(":")
        resolved = token or None
        if topic_id not in self.knowledge.topics:
            return Outcome(profile, (self.menu(profile.lang),), resolved=resolved)
        reply = self.topic_reply(topic_id, profile.lang, profile.city)
        return Outcome(profile.saw(topic_id), (reply,), resolved=resolved)

    def on_feedback(self, profile: Profile, topic_id: str, helpful: bool) -> Outcome:
        """👍 or 👎 on an answer; 👎 offers a person. A topic that does not exist (a forged or stale button) is
        thanked for but not counted."""
        t = self.t(profile.lang)
        counted = topic_id in self.knowledge.topics
        if helpful:
            reply = Reply(t.gettext("Thank you! I am glad it helped."), direction=self.direction(profile.lang))
            return Outcome(profile, (reply,), feedback=(topic_id, "up") if counted else None)
        reply = Reply(
            t.gettext("Sorry that this did not help. A person from the integration centre can help you."),
            buttons=((Button(t.gettext("💬 Talk to a person"), "human"), Button(t.gettext("☰ Menu"), "menu")),),
            direction=self.direction(profile.lang),
        )
        if not counted:
            return Outcome(profile, (reply,))
        gap = Gap.of("thumbs-down", self.dialogue.language(profile.lang), profile.city, "", 0.0, topic=topic_id)
        return Outcome(profile, (reply,), feedback=(topic_id, "down"), gap=gap)

    def _gap(self, kind: GapKind, profile: Profile, text: str, decision: Decision) -> Gap:
        """A gap of ``text`` for the worklist (its day is set when it is recorded): the matcher's best targets, or
        for a clarify the topics it offered."""
        scores = [(c.target, c.score) for c in decision.scores]
        if kind == "clarify":
            found = dict(scores)
            scores = [(topic, found.get(topic, 0.0)) for topic in decision.candidates]
        return Gap.of(kind, decision.lang, profile.city or decision.city, text, 0.0, scores)

    def on_media(self, profile: Profile, kind: MediaKind) -> Outcome:
        """Voice, photos, stickers, documents...: say kindly what Lotse can do instead."""
        t = self.t(profile.lang)
        texts = {
            "voice": t.gettext("I cannot listen to voice messages yet. Please write your question in a few words."),
            "photo": t.gettext(
                "I cannot read pictures. Please write your question in a few words, or talk to a person: /human"
            ),
            "video": t.gettext("I cannot watch videos. Please write your question in a few words."),
            "document": t.gettext(
                "I cannot read documents or letters. Please write what it is about, or talk to a person: /human"
            ),
            "sticker": t.gettext("😊 Write me a question, or open the menu: /menu"),
            "contact": t.gettext("Please do not send contact details here. Write your question instead."),
            "other": t.gettext("Please write your question in a few words, in any language."),
        }
        text = f"{texts[kind]}\n{self.dialogue.safety_line(self.dialogue.language(profile.lang))}"
        return Outcome(profile, (Reply(text, direction=self.direction(profile.lang)),))

    def on_not_emergency(self, profile: Profile, text: str | None) -> Outcome:
        """ "Not an emergency – ask my question": the quoted message answered as an ordinary question."""
        if not text:
            t = self.t(profile.lang)
            reply = Reply(
                t.gettext("Please write your question in a few words, in any language."),
                direction=self.direction(profile.lang),
            )
            return Outcome(profile, (reply,))
        return self.on_text(profile, text, emergency=False)

    def is_emergency(self, text: str) -> bool:
        """Whether ``text`` contains an emergency word (answered even when the person is slowed down)."""
        return self.dialogue.is_emergency(text)

    def on_human(self, profile: Profile) -> Outcome:
        """The person wants a human: show how to reach the integration centre of their city."""
        t = self.t(profile.lang)
        code = self.dialogue.language(profile.lang)
        city = self.knowledge.cities.get(profile.city) if profile.city else None
        intro = t.gettext("You can talk to a person at the integration centre or the Service Point of your city.")
        contacts = contacts_text("integration-centre", city, code, self.knowledge, t)
        reply = Reply(
            f"{intro}\n\n{contacts}",
            title=t.gettext("Talk to a person"),
            buttons=((Button(t.gettext("☰ Menu"), "menu"),),),
            direction=self.direction(code),
            kind="human",
        )
        return Outcome(profile, (reply,))

    def warm_up(self, topics: int = WARM_TOPICS) -> None:
        """Compile every interface catalog, render topics and decide a question in every language once (stemmers and
        word lists load on first use), so that no person waits for it. The first ``topics`` topics are rendered
        (today's all): a start must not grow with the knowledge (at 100x, rendering all took seconds)."""
        first = list(itertools.islice(self.knowledge.topics, topics))
        for code in self.knowledge.languages:
            self.t(code)
            self.dialogue.decide(self.dialogue.title(first[0], code), code)
            for topic_id in first:
                self.dialogue.render(topic_id, code, next(iter(self.knowledge.cities), None))
