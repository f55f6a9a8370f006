"""Telegram rendering: escaping, splitting at 4096 UTF-16 units, keyboards, callback data size."""

from __future__ import annotations

import pytest

from bot.core.replies import Button, Reply
from bot.telegram.keyboards import markup
from bot.telegram.render import MAX_UTF16, shorten, split_text, to_html, utf16_len


def test_every_dynamic_value_is_escaped() -> None:
    (html,) = to_html(Reply("a < b & c > d", title="<b>Title & co</b>"))
    assert html == "<b>&lt;b&gt;Title &amp; co&lt;/b&gt;</b>\n\na &lt; b &amp; c &gt; d"


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("عربي") == 4


def test_split_on_line_boundaries_within_limit() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(100)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert all(utf16_len(p) <= MAX_UTF16 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)


def test_split_counts_emoji_as_two_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units, one line, no spaces
    parts = split_text(text)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == text


def test_split_a_long_line_at_spaces() -> None:
    words = " ".join(["wort"] * 2000)
    parts = split_text(words)
    assert all(utf16_len(p) <= MAX_UTF16 for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words


def test_long_reply_is_split_and_title_only_first() -> None:
    body = "\n".join(["Ärztin & Arzt <Termin>"] * 400)
    messages = to_html(Reply(body, title="Titel"))
    assert len(messages) >= 2
    assert messages[0].startswith("<b>Titel</b>")
    assert not messages[1].startswith("<b>")
    assert all("<Termin>" not in m for m in messages)


def test_rtl_numbers_and_latin_are_isolated() -> None:
    (html,) = to_html(Reply("اتصل على 112 أو Jobcenter", direction="rtl"))
    assert "\u2066112\u2069" in html and "\u2066Jobcenter\u2069" in html


def test_callback_data_limit_is_enforced() -> None:
    Button("ok", "t:" + "x" * 62)
    with pytest.raises(ValueError, match="64 bytes"):
        Button("too long", "t:" + "ü" * 32)


def test_keyboards() -> None:
    inline = markup(Reply("x", buttons=((Button("A", "a"), Button("B", "b")),)))
    assert inline is not None and inline.to_dict()["inline_keyboard"][0][1]["callback_data"] == "b"
    location = markup(Reply("x", keyboard=((Button("📍", request_location=True),),)))
    assert location is not None and location.to_dict()["keyboard"][0][0]["request_location"] is True
    assert markup(Reply("x", remove_keyboard=True)) is not None
    assert markup(Reply("x")) is None


def test_shorten_counts_utf16_units_and_marks_the_cut() -> None:
    assert shorten("short", 10) == "short"
    text = "📄 " * 600  # 1,800 UTF-16 units in 1,200 characters
    cut = shorten(text, 1024)
    assert utf16_len(cut) <= 1024
    assert cut.endswith(" …")
    assert cut.startswith("📄 📄")
    assert utf16_len(shorten("x" * 5000, MAX_UTF16)) <= MAX_UTF16


def test_an_address_line_links_to_a_map_search() -> None:
    text = "📍 Bürgeramt & Co\nSüdwall 2-4, 44137 Dortmund\n☎ +49 231 50-11150\nSüdwall 2-4, 44137 Dortmund ist nah"
    (html,) = to_html(Reply(text, places=(("Südwall 2-4, 44137 Dortmund", "Südwall 2-4, 44137 Dortmund"),)))
    link = '<a href="https://www.openstreetmap.org/search?query=S%C3%BCdwall%202-4%2C%2044137%20Dortmund">'
    assert f"{link}Südwall 2-4, 44137 Dortmund</a>\n" in html
    assert html.count("<a ") == 1  # only a line that is the address, not a sentence that mentions it
    assert "Bürgeramt &amp; Co" in html


def test_an_address_in_right_to_left_text_is_linked_with_its_isolates() -> None:
    (html,) = to_html(
        Reply("📍 مكتب\nOlpe 1, 44135 Dortmund", direction="rtl", places=(("Olpe 1, 44135 Dortmund", "Olpe 1"),))
    )
    assert html.endswith(
        '<a href="https://www.openstreetmap.org/search?query=Olpe%201">\u2066Olpe 1, 44135 Dortmund\u2069</a>'
    )


def test_keyboards_as_json_are_what_telegram_reads_and_built_once() -> None:
    import json

    from bot.telegram.keyboards import _markup_json, markup_json

    reply = Reply("x", buttons=((Button("A", "a"), Button("🇸🇾 عربي", "lang:ar")),))
    found = markup_json(reply)
    assert found is not None
    assert json.loads(found) == markup(reply).to_dict()  # type: ignore[union-attr]
    assert "عربي" in found  # not \\u-escaped: shorter requests
    before = _markup_json.cache_info().hits
    assert markup_json(Reply("another text, the same buttons", buttons=reply.buttons)) is found
    assert _markup_json.cache_info().hits == before + 1
    assert markup_json(Reply("x")) is None
