"""The webhook secret every instance of one bot agrees on without configuration."""

from __future__ import annotations

import re

from bot.telegram.app import webhook_secret

TOKEN = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"


def test_the_derived_secret_is_the_same_for_every_instance_and_differs_per_bot() -> None:
    first, second = webhook_secret(TOKEN), webhook_secret(TOKEN)
    assert first == second  # two processes compute the same secret: Telegram's posts reach either
    assert webhook_secret(TOKEN.replace("AAE", "AAF")) != first
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", first)  # what Telegram accepts as secret_token
    assert TOKEN.split(":")[1] not in first
