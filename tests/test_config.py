"""Configuration from the environment: defaults, overrides, clear errors."""

from __future__ import annotations

import io

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config

TOKEN = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"


def test_defaults() -> None:
    config = load_config({})
    assert config.knowledge_dir.name == "knowledge"
    assert config.telegram_token is None
    assert config.match.answer_score > 0


def test_match_override_and_unknown_name() -> None:
    assert load_config({"LOTSE_MATCH_ANSWER_SCORE": "1.25"}).match.answer_score == 1.25
    with pytest.raises(ConfigError, match="unknown matching setting"):
        load_config({"LOTSE_MATCH_ANSWR_SCORE": "1"})


def test_token_missing_explains_how_to_get_one() -> None:
    with pytest.raises(ConfigError) as info:
        load_config({}).require_token()
    text = str(info.value)
    assert "@BotFather" in text and "/newbot" in text and "make chat" in text


def test_token_malformed_is_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"TELEGRAM_BOT_TOKEN": "my-token"}).require_token()
    assert "\n" not in str(info.value)
    assert load_config({"TELEGRAM_BOT_TOKEN": f" {TOKEN} "}).require_token() == TOKEN


def test_run_without_token_prints_guidance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    out = io.StringIO()
    assert main(["run"], out) == 2
    assert "@BotFather" in out.getvalue()
