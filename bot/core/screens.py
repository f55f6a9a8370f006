"""The fixed screens of a conversation: language and city pickers, menu, help, privacy, /delete, the command list.

They depend on the person's language only, never on what they wrote; :class:`~bot.core.conversation.Conversation`
builds on them.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.dialogue import Dialogue
from bot.core.i18n import N_, Translator
from bot.core.model import CATEGORIES
from bot.core.replies import Button, Outcome, Profile, Reply

CATEGORY_NAMES: dict[str, str] = {
    "health": N_("Health"),
    "documents": N_("Documents and residence"),
    "learning": N_("German and education"),
    "work-money": N_("Work and money"),
    "family-school": N_("Family, school and childcare"),
    "daily-life": N_("Daily life"),
    "help": N_("Help and counselling"),
}
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Start and choose language and city")),
    ("menu", N_("All topics")),
    ("human", N_("Talk to a person")),
    ("end", N_("End the conversation with a person")),
    ("language", N_("Change language")),
    ("city", N_("Change city")),
    ("privacy", N_("What is stored about you")),
    ("delete", N_("Delete everything about you")),
    ("help", N_("How Lotse works")),
)


def rows(buttons: Iterable[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    items = list(buttons)
    return tuple(tuple(items[i : i + per_row]) for i in range(0, len(items), per_row))


class Screens:
    """Replies that need only the person's language (and the knowledge)."""

    def __init__(self, dialogue: Dialogue, retention_days: int = 90) -> None:
        self.dialogue = dialogue
        self.retention_days = retention_days  # how long a closed case's messages are kept (told in /privacy)
        self.knowledge = dialogue.knowledge

    def use(self, dialogue: Dialogue) -> None:
        """Answer from ``dialogue`` from now on (a reloaded knowledge): every part that holds this conversation (the
        desk, the handoff, the outbox) sees it at once; what is being answered now finishes with the previous one."""
        self.dialogue, self.knowledge = dialogue, dialogue.knowledge

    def t(self, lang: str | None) -> Translator:
        """The interface catalog for ``lang`` (or the closest language Lotse speaks)."""
        return self.dialogue.t(self.dialogue.language(lang))

    def direction(self, lang: str | None) -> str:
        """ "ltr" or "rtl" for ``lang``."""
        code = self.dialogue.language(lang)
        return self.knowledge.languages[code].direction

    def supported(self, code: str | None) -> str | None:
        """The Lotse language for a Telegram ``language_code`` (``pt-br`` -> ``pt``), or None."""
        if not code:
            return None
        base = code.lower().replace("_", "-").split("-")[0]
        return base if base in self.knowledge.languages else None

    def language_picker(self, lang: str | None) -> Reply:
        t = self.t(lang)
        buttons = [Button(lg.native, f"lang:{code}") for code, lg in self.knowledge.languages.items()]
        return Reply(
            t.gettext("Please choose your language:"),
            buttons=rows(buttons, 3),
            direction=self.direction(lang),
            kind="language",
        )

    def privacy(self, lang: str | None) -> Reply:
        t = self.t(lang)
        retention_days = self.retention_days
        text = "\n".join(
            [
                t.gettext("Lotse stores your language, your city and the last three topics it showed you."),
                t.gettext("Your name and phone number are not stored. Your questions to Lotse are not stored."),
                t.gettext("If you ask to talk to a person, I first show you what will be shared and ask you."),
                t.ngettext(
                    "What you send to the integration centre is kept while your case is open and deleted "
                    "%(num)d day after it is closed.",
                    "What you send to the integration centre is kept while your case is open and deleted "
                    "%(num)d days after it is closed.",
                    retention_days,
                )
                % {"num": retention_days},
                t.gettext("/delete removes everything about you at once."),
            ]
        )
        return Reply(text, title=t.gettext("Privacy"), direction=self.direction(lang), kind="privacy")

    def help(self, lang: str | None) -> Reply:
        t = self.t(lang)
        lines = [
            t.gettext(
                "Write your question in your own words, in any language. For example: “Where can I learn German?”"
            )
        ]
        lines += [f"/{name} – {t.gettext(description)}" for name, description in COMMANDS]
        return Reply("\n".join(lines), title=t.gettext("How Lotse works"), direction=self.direction(lang), kind="help")

    def menu(self, lang: str | None) -> Reply:
        t = self.t(lang)
        buttons = [Button(t.gettext(CATEGORY_NAMES[cat]), f"cat:{cat}") for cat in CATEGORIES if self._topics_in(cat)]
        return Reply(
            t.gettext("Choose a topic area:"), buttons=rows(buttons, 2), direction=self.direction(lang), kind="menu"
        )

    def _topics_in(self, category: str) -> list[str]:
        return [tid for tid, topic in self.knowledge.topics.items() if topic.category == category]

    def category(self, category: str, lang: str | None, city: str | None) -> Reply:
        t = self.t(lang)
        code = self.dialogue.language(lang)
        ids = self._topics_in(category)
        buttons = [Button(self.dialogue.title(tid, code), f"t:{tid}") for tid in ids]
        buttons.append(Button(t.gettext("⬅ All topics"), "menu"))
        title = t.gettext(CATEGORY_NAMES.get(category, category))
        return Reply(
            t.gettext("Choose a topic:"),
            title=title,
            buttons=rows(buttons, 1),
            direction=self.direction(lang),
            kind="menu",
        )

    def confirm_delete(self, lang: str | None) -> Reply:
        t = self.t(lang)
        return Reply(
            t.gettext(
                "Delete everything Lotse stores about you (language, city and your messages to the integration centre)?"
            ),
            buttons=((Button(t.gettext("Yes, delete"), "del:yes"), Button(t.gettext("No"), "del:no")),),
            direction=self.direction(lang),
            kind="delete",
        )

    def deleted(self, lang: str | None) -> Reply:
        t = self.t(lang)
        return Reply(
            t.gettext("Everything about you has been deleted. Send /start to begin again."),
            direction=self.direction(lang),
        )

    def kept(self, lang: str | None) -> Reply:
        t = self.t(lang)
        return Reply(t.gettext("Nothing was deleted."), direction=self.direction(lang))

    def slow_down(self, profile: Profile) -> Outcome:
        """The person sends messages faster than Lotse answers them."""
        t = self.t(profile.lang)
        return Outcome(
            profile,
            (
                Reply(
                    t.gettext("Please wait a moment before sending more messages."),
                    direction=self.direction(profile.lang),
                ),
            ),
        )

    def commands(self, lang: str) -> list[tuple[str, str]]:
        """The bot's command list with descriptions in ``lang`` (for setMyCommands)."""
        t = self.t(lang)
        return [(name, t.gettext(description)) for name, description in COMMANDS]
