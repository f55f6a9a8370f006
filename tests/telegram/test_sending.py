"""How the sender reads Telegram's refusals."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest

from bot.telegram.sending import ignoring, says


def test_says_reads_telegrams_wording_in_either_spelling() -> None:
    assert says(BadRequest("Bad Request: TOPIC_NOT_MODIFIED"), "not modified")
    assert says(BadRequest("Bad Request: message to delete not found"), "no text", "not found")
    assert not says(BadRequest("Bad Request: chat not found"), "not modified")


def test_ignoring_swallows_only_the_named_refusal() -> None:
    with ignoring("not found"):
        raise BadRequest("Bad Request: message thread not found")
    with pytest.raises(BadRequest, match="rights"), ignoring("not found"):
        raise BadRequest("Bad Request: not enough rights to manage topics")
