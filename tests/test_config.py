"""Configuration from the environment: defaults, overrides, clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config

TOKEN = "123456789:AAEhBP0av28xjVQCyYb0Ffq_Kd8aX1JQnOo"


def test_defaults() -> None:
    config = load_config({})
    assert config.knowledge_dir.name == "knowledge"
    assert config.telegram_token is None
    assert config.match.answer_confidence > 0


def test_operations_defaults_and_overrides() -> None:
    config = load_config({})
    assert (config.http_port, config.log_format, config.log_level) == (8080, "json", "info")
    config = load_config({"LOTSE_HTTP_PORT": "0", "LOTSE_LOG_FORMAT": "Text", "LOTSE_LOG_LEVEL": "DEBUG"})
    assert (config.http_port, config.log_format, config.log_level) == (0, "text", "debug")


def test_the_knowledge_watch_is_on_unless_switched_off() -> None:
    assert load_config({}).knowledge_watch is True
    assert load_config({"LOTSE_KNOWLEDGE_WATCH": "off"}).knowledge_watch is False
    assert load_config({"LOTSE_KNOWLEDGE_WATCH": "1"}).knowledge_watch is True
    with pytest.raises(ConfigError, match="LOTSE_KNOWLEDGE_WATCH: 'maybe' is neither on nor off"):
        load_config({"LOTSE_KNOWLEDGE_WATCH": "maybe"})


def test_match_override_and_unknown_name() -> None:
    assert load_config({"LOTSE_MATCH_ANSWER_CONFIDENCE": "0.75"}).match.answer_confidence == 0.75
    with pytest.raises(ConfigError, match="unknown matching setting"):
        load_config({"LOTSE_MATCH_ANSWR_CONFIDENCE": "1"})


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


def test_handoff_settings_and_their_errors() -> None:
    config = load_config({"LOTSE_REOPEN_HOURS": "48", "LOTSE_RETENTION_DAYS": "30", "KI_SECRET": "x" * 20})
    assert config.reopen_hours == 48 and config.retention_days == 30
    assert config.group_rate == (20, 60.0) and config.outbox_lease == 30.0
    assert config.secret("KI_SECRET") == "x" * 20
    with pytest.raises(ConfigError, match="KI_OTHER"):
        config.secret("KI_OTHER")
    with pytest.raises(ConfigError, match="LOTSE_RETENTION_DAYS"):
        load_config({"LOTSE_RETENTION_DAYS": "0.5"})
    with pytest.raises(ConfigError, match="LOTSE_REOPEN_HOURS"):
        load_config({"LOTSE_REOPEN_HOURS": "soon"})
    with pytest.raises(ConfigError, match="LOTSE_GROUP_RATE"):
        load_config({"LOTSE_GROUP_RATE": "20 per minute"})
    with pytest.raises(ConfigError, match="LOTSE_TRANSLATE_URL"):
        load_config({"LOTSE_TRANSLATE_URL": "libretranslate.local"})


def test_run_with_a_broken_centres_file_names_file_and_line(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "centres.yaml"  # type: ignore[operator]
    path.write_text("centres:\n  - id: ki\n    name: KI\n    cities: [atlantis]\n    chat_id: 5\n", encoding="utf-8")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LOTSE_CENTRES", str(path))
    out = io.StringIO()
    assert main(["run"], out) == 2
    text = out.getvalue()
    assert f"{path}:5: error: chat_id" in text and "negative" in text and "centres.example.yaml" in text
    assert len(text.splitlines()) == 1  # one line for the operator, as every start-up failure


def test_run_with_a_webhook_but_no_secret_says_which_variable(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "centres.yaml"  # type: ignore[operator]
    path.write_text(
        "centres:\n  - id: ki\n    name: KI\n    cities: ['*']\n    chat_id: -1005\n"
        "    webhook: {url: 'https://tickets.example.org/in', secret_env: KI_HOOK_SECRET}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LOTSE_CENTRES", str(path))
    monkeypatch.delenv("KI_HOOK_SECRET", raising=False)
    out = io.StringIO()
    assert main(["run"], out) == 2
    assert "KI_HOOK_SECRET" in out.getvalue()


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOTSE_WEBHOOK_PORT", "8²"), ("LOTSE_ADMIN_IDS", "12,³"), ("LOTSE_HTTP_PORT", "80800"),
     ("LOTSE_LOG_FORMAT", "xml"), ("LOTSE_LOG_LEVEL", "loud")],
)  # fmt: skip
def test_digits_that_are_no_numbers_get_a_clear_message(name: str, value: str) -> None:
    # "²".isdigit() is true, but int("²") fails: these are refused with the variable's name, not a traceback
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


def test_postgres_urls_in_both_spellings_use_psycopg() -> None:
    from bot.storage.engine import make_engine

    for url in ("postgres://lotse:secret@db:5432/lotse", "postgresql://lotse:secret@db:5432/lotse"):
        engine = make_engine(url)
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://lotse:secret@127.0.0.1:1/test", "cannot reach the database server"),  # nothing listens on port 1
        ("postgresql://postgres@127.0.0.1:5432/no_such_database_here", "create it or fix the database name"),
        ("sqlite:////no/such/folder/lotse.db", "the folder /no/such/folder does not exist"),
        ("mysql+nodriver://x@y/z", "not a database address Lotse can use"),
    ],
)
def test_run_with_a_database_it_cannot_use_says_so_in_one_line(
    url: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("LOTSE_CENTRES", raising=False)
    out = io.StringIO()
    assert main(["run"], out) == 2
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("database error: DATABASE_URL") and says in lines[0], lines
    assert "secret" not in lines[0]  # a password never appears


def test_an_unwritable_sqlite_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.storage import engine as engine_module

    monkeypatch.setattr("bot.storage.engine.os.access", lambda path, mode: False)  # as for a non-root user in /app
    with pytest.raises(engine_module.DatabaseStartError, match=r"cannot write .*lotse\.db \(permission denied\)"):
        engine_module.open_database(f"sqlite:///{tmp_path / 'lotse.db'}")


def test_make_run_without_a_token_explains_and_opens_the_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\nwo ist eine apotheke\n/quit\n"))
    out = io.StringIO()
    assert main(["run", "--chat-without-token"], out) == 0  # not make's "Error 2"
    text = out.getvalue()
    assert "@BotFather" in text and "Starting the terminal chat now" in text
    assert "lotse [answer]>" in text  # the chat answered the question


def test_a_health_port_in_use_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for name, value in {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",  # never reached: the port is refused first
            "DATABASE_URL": f"sqlite:///{tmp_path / 'lotse.db'}",
            "LOTSE_HTTP_LISTEN": "127.0.0.1",
            "LOTSE_HTTP_PORT": str(port),
        }.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("LOTSE_CENTRES", raising=False)
        out = io.StringIO()
        assert main(["run"], out) == 2
    (line,) = out.getvalue().splitlines()
    assert line.startswith(f"error: cannot serve /healthz and /metrics on 127.0.0.1:{port}")
    assert "LOTSE_HTTP_PORT" in line


def test_run_with_broken_knowledge_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from tests.conftest import KNOWLEDGE_DIR

    broken = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, broken)
    topic = broken / "topics" / "pharmacy" / "topic.yaml"
    text = topic.read_text(encoding="utf-8").replace("category: health", "category: [health", 1)
    topic.write_text(text, encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(broken))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(["run"], io.StringIO()) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert (
        line.startswith("knowledge error: 1 error(s) in the knowledge base; first: ") and "pharmacy/topic.yaml:" in line
    )
