"""Where a person lives: the city step of the onboarding and /city. Every one of NRW's municipalities can be chosen:
a button for the largest cities, "type your town" (a name with typos, in another script, inside a sentence, or a
postcode) and a shared location; the person confirms the town found. The profile keeps the municipality (``place``)
and the file whose contacts it is shown (``city``: the town's own, else its district's).
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.districts import municipality_of
from bot.core.places import DISTRICT, Places, distance_km
from bot.core.replies import Button, Outcome, Profile, Reply
from bot.core.screens import Screens, rows

# The largest cities first on the city step (by inhabitants); the rest are typed. Only those with a file are shown.
LARGEST = ("koeln", "duesseldorf", "dortmund", "essen", "duisburg", "bochum", "wuppertal", "bielefeld")
BUTTONS = 8
NEAREST_CITY_KM = 60.0  # without municipalities.yaml: the nearest city file within this distance


class Towns(Screens):
    """The city step: choosing a municipality; :class:`~bot.core.conversation.Conversation` builds on it."""

    @property
    def towns(self) -> Places:
        return self.dialogue.towns

    def city_picker(self, lang: str | None) -> Reply:
        t = self.t(lang)
        code = self.dialogue.language(lang)
        cities = self.knowledge.cities
        first = [slug for slug in LARGEST if slug in cities]
        first += [slug for slug, city in cities.items() if slug not in first and city.level == "district-free-city"]
        buttons = [Button(cities[slug].name(code), f"city:{slug}") for slug in first[:BUTTONS]]
        if self.knowledge.municipalities:
            buttons.append(Button(t.gettext("✏️ Type my town"), "town"))
        buttons.append(Button(t.gettext("Other city"), "city:-"))
        return Reply(
            t.gettext("In which city or town do you live? Then I can show you local addresses."),
            buttons=rows(buttons, 2),
            keyboard=((Button(t.gettext("📍 Share my location"), request_location=True),),),
            direction=self.direction(lang),
            kind="city",
        )

    def on_town(self, profile: Profile) -> Outcome:
        """ "Type my town": the next message is read as the name of a town (after an emergency check)."""
        t = self.t(profile.lang)
        reply = Reply(
            t.gettext("Please type the name of your town or its postcode."),
            buttons=((Button(t.gettext("Other city"), "city:-"),),),
            direction=self.direction(profile.lang),
        )
        return Outcome(replace(profile, step="town"), (reply,))

    def town_choices(self, profile: Profile, text: str) -> Outcome | None:
        """The towns a message at the city step names, for the person to confirm; None when it names none (and the
        person did not ask to type a town)."""
        hits = self.towns.search(text)
        if not hits and profile.step != "town":
            return None
        t = self.t(profile.lang)
        code = self.dialogue.language(profile.lang)
        if not hits:
            text = t.gettext("I could not find that town. Please type its name again, or its postcode, or share your "
                             "location.")  # fmt: skip
            buttons: tuple[tuple[Button, ...], ...] = ((Button(t.gettext("Other city"), "city:-"),),)
            return Outcome(profile, (Reply(text, buttons=buttons, direction=self.direction(code)),))
        return self._confirm(profile, [hit.place for hit in hits], t.gettext("✏️ Type again"))

    def _confirm(self, profile: Profile, places: list[str], again: str) -> Outcome:
        """The towns found, a button each for the person to confirm; ``again`` labels the button to type one."""
        t = self.t(profile.lang)
        code = self.dialogue.language(profile.lang)
        choices: list[tuple[Button, ...]] = [
            (Button("✅ " + self.towns.label(place, code), f"place:{place}"),) for place in places
        ]
        choices.append((Button(again, "town"), Button(t.gettext("Other city"), "city:-")))
        question = t.gettext("Is this your town?") if len(places) == 1 else t.gettext("Which is your town?")
        return Outcome(profile, (Reply(question, buttons=tuple(choices), direction=self.direction(code)),))

    def on_place(self, profile: Profile, place: str) -> Outcome:
        """A town was confirmed (``place:<municipality id>`` or ``place:@<district>``)."""
        city = self.towns.contacts_of(place)
        if city is None:
            return self.on_city(profile, "-")
        municipality = None if place.startswith(DISTRICT) else place
        t = self.t(profile.lang)
        code = self.dialogue.language(profile.lang)
        text = t.gettext("City: {city}").format(city=self.towns.label(place, code))
        return self._settled(profile, replace(profile, city=city, place=municipality), text)

    def on_city(self, profile: Profile, slug: str) -> Outcome:
        """A city button was tapped, or "other" (no local addresses)."""
        t = self.t(profile.lang)
        code = self.dialogue.language(profile.lang)
        if slug in self.knowledge.cities:
            place = municipality_of(self.knowledge.cities[slug])
            place_or_none = place if place in self.knowledge.municipalities else None
            text = t.gettext("City: {city}").format(city=self.knowledge.cities[slug].name(code))
            return self._settled(profile, replace(profile, city=slug, place=place_or_none), text)
        text = t.gettext(
            "I have no local addresses for your city yet. I will give you general answers and point you to "
            "the integration centre of your city."
        )
        return self._settled(profile, replace(profile, city=None, place=None), text)

    def _settled(self, before: Profile, after: Profile, text: str) -> Outcome:
        """The town is set: say so; during the onboarding also what is stored and how to go on."""
        code = self.dialogue.language(after.lang)
        onboarding = before.step != "ready" and not (before.step == "town" and (before.city or before.place))
        replies = [Reply(text, remove_keyboard=True, direction=self.direction(code))]
        if onboarding:
            replies += [self.privacy(code), self._ready(code)]
        return Outcome(replace(after, step="ready"), tuple(replies))

    def on_location(self, profile: Profile, lat: float, lon: float) -> Outcome:
        """A shared location: the municipality whose centre is nearest, for the person to confirm."""
        if self.knowledge.municipalities:
            found = self.towns.nearest(lat, lon)
            if found is None:
                return self.on_city(profile, "-")
            return self._confirm(profile, [found[0]], self.t(profile.lang).gettext("✏️ Type my town"))
        nearest = min(
            self.knowledge.cities.values(),
            key=lambda c: distance_km(lat, lon, c.coordinates.lat, c.coordinates.lon),
            default=None,
        )
        if nearest is not None and (
            distance_km(lat, lon, nearest.coordinates.lat, nearest.coordinates.lon) <= NEAREST_CITY_KM
        ):
            return self.on_city(profile, nearest.slug)
        return self.on_city(profile, "-")

    def _ready(self, lang: str) -> Reply:
        t = self.t(lang)
        return Reply(
            t.gettext("Now ask me anything in your own words, or open the menu."),
            buttons=((Button(t.gettext("☰ Menu"), "menu"),),),
            direction=self.direction(lang),
        )
