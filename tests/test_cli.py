"""The command line as a user runs it: exit codes and what is printed."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.dialogue import Dialogue
from tests.conftest import FIXTURE_KB, ROOT


@pytest.fixture
def fixture_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWLEDGE_DIR", str(FIXTURE_KB))


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, out)
    return code, out.getvalue()


def test_check_valid_folder_exits_0(fixture_env: None) -> None:
    code, out = run(["check"])
    assert code == 0
    assert "0 error(s)" in out
    assert "3 topics, 3 languages, 1 cities" in out


def test_check_broken_folder_exits_1_with_file_line(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, root)
    doctor = root / "topics" / "doctor" / "topic.yaml"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("revision: 2\n", "revision: 2\nrevision: 3\n", 1))
    code, out = run(["check", str(root)])
    assert code == 1
    assert "topics/doctor/topic.yaml:7: error: duplicate key 'revision' (first at line 6)" in out
    assert "hint:" in out


def test_check_errors_only_hides_warnings(fixture_env: None) -> None:
    _, out = run(["check", "--errors-only"])
    assert "warning" not in out.split("\n")[0] or out.startswith(str(FIXTURE_KB))


def test_ask_json_contract(fixture_env: None) -> None:
    code, out = run(["ask", "wo finde ich einen hausarzt", "--lang", "de", "--city", "testcity", "--json"])
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"kind", "topic", "candidates", "lang", "text", "more"}  # more: behind the button, or null
    assert result["kind"] == "answer"
    assert result["topic"] == "doctor"
    assert result["lang"] == "de"
    assert "Kommunales Integrationszentrum Teststadt" in result["text"]
    assert "+49 211 1234567" in result["text"]


def test_ask_emergency(fixture_env: None) -> None:
    code, out = run(["ask", "mein vater atmet nicht mehr", "--lang", "de", "--json"])
    assert code == 0
    assert json.loads(out)["kind"] == "emergency"


def test_ask_unknown_city_is_explained(fixture_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["ask", "arzt", "--city", "atlantis"])
    assert code == 2
    assert "unknown city 'atlantis'" in capsys.readouterr().err


def test_ask_jsonl_stream(fixture_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        json.dumps({"text": "apotheke nachts", "lang": "de", "city": None}),
        "",
        "not json",
        json.dumps({"text": "i want to talk to a human", "lang": "en"}),
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out = run(["ask", "--jsonl"])
    results = [json.loads(line) for line in out.strip().split("\n")]
    assert code == 1  # one bad line
    assert results[0]["kind"] == "answer" and results[0]["topic"] == "pharmacy"
    assert "error" in results[1] and "line 3" in results[1]["error"]
    assert results[2]["kind"] == "handoff"


def test_broken_knowledge_gives_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, root)
    (root / "topics" / "doctor" / "de.yaml").write_text("title: [\n", encoding="utf-8")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(root))
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "arzt"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 2
    assert "python -m bot check" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_match_setting_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOTSE_MATCH_ANSWER_CONFIDENCE", "high")
    code, _ = run(["check", str(FIXTURE_KB)])
    assert code == 2
    assert "LOTSE_MATCH_*" in capsys.readouterr().err


def test_eval_floors_set_exit_code(fixture_env: None, tmp_path: Path) -> None:
    dev = tmp_path / "dev.yaml"
    dev.write_text(
        "- {id: a, text: 'apotheke nachts', lang: de, wrote: de, city: null, expect: pharmacy}\n"
        "- {id: b, text: 'hausarzt finden', lang: de, wrote: de, city: null, expect: doctor}\n"
        "- {id: c, text: 'es brennt in der kueche', lang: de, wrote: de, city: null, expect: emergency}\n"
        "- {id: d, text: 'wie wird das wetter', lang: de, wrote: de, city: null, expect: out-of-scope}\n",
        encoding="utf-8",
    )
    code, out = run(["eval", str(dev), "--min-top1", "1.0", "--min-emergency-recall", "1.0"])
    assert code == 0, out
    assert "top-1: 1.000" in out
    assert "emergency recall: 1.000 (1/1)" in out
    assert "out-of-scope false-answer rate: 0.000 (0/1)" in out
    dev.write_text(
        "- {id: a, text: 'wie wird das wetter', lang: de, wrote: de, city: null, expect: pharmacy}\n", encoding="utf-8"
    )
    code, out = run(["eval", str(dev), "--min-top1", "0.5"])
    assert code == 1
    assert "FLOOR NOT MET: top-1 0.000 < 0.5" in out


def test_eval_reads_a_folder_of_question_files(fixture_env: None, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "- {id: a, text: 'apotheke nachts', lang: de, wrote: de, city: null, expect: pharmacy}\n", encoding="utf-8"
    )
    (tmp_path / "b.yaml").write_text(
        "- {id: b, text: 'wie wird das wetter', lang: de, wrote: de, city: null, expect: out-of-scope}\n",
        encoding="utf-8",
    )
    (tmp_path / "notes.txt").write_text("not a question file", encoding="utf-8")
    code, out = run(["eval", str(tmp_path)])
    assert code == 0, out
    assert "items: 2   topic items: 1" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(["eval", str(empty)])[0] == 2


def test_eval_bad_file_is_explained(fixture_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dev = tmp_path / "dev.yaml"
    dev.write_text("- {id: a, text: x}\n", encoding="utf-8")
    code, _ = run(["eval", str(dev)])
    assert code == 2
    assert "dev.yaml:1: question lacks field" in capsys.readouterr().err


def test_chat_in_the_terminal(fixture_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("2\nwo ist eine apotheke\n/city\n1\nhausarzt\n/menu\n2\n/quit\n"))
    code, out = run(["chat"])
    assert code == 0
    assert "1. Deutsch (German)" in out
    assert "Pharmacy" in out  # language 2 = English interface
    assert "Kommunales Integrationszentrum Teststadt" in out
    assert "Take your prescription" in out  # menu item 2 = pharmacy


def test_chat_offers_the_answer_buttons_as_commands(fixture_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("2\nwhere is a pharmacy\n/de\n/more\n/quit\n"))
    code, out = run(["chat"])
    assert code == 0
    assert "/de = 🇩🇪 Show in German" in out  # offered under an answer outside German
    assert "lotse> Apotheke\n\n" in out  # the German card: the German title and short answer
    assert "(nothing more for this answer)" in out  # a short topic has no "More"
    assert "/more = " not in out


def test_bad_embeddings_setting_is_a_config_error(
    fixture_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOTSE_EMBEDDINGS", "magic:model")
    code, _ = run(["ask", "arzt"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("configuration error: LOTSE_EMBEDDINGS=") and err.count("\n") == 1


def test_ask_explain_shows_each_signal_and_the_confidence(fixture_env: None) -> None:
    code, out = run(["ask", "--lang", "de", "--explain", "apotheke nachts"])
    assert code == 0
    assert "[answer: pharmacy]" in out
    assert "pharmacy: confidence" in out
    assert "classifier=" in out and "lexical_lead=" in out
    assert "classifier features:" in out


def test_updates_lists_the_quarantined_without_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from bot.core.ports import Quarantined
    from bot.storage.engine import make_engine, migrate
    from bot.storage.stores import SqlStores

    url = f"sqlite:///{tmp_path / 'lotse.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    code, out = run(["updates"])
    assert code == 0 and "no quarantined updates" in out
    engine = make_engine(url)
    migrate(engine)
    entry = Quarantined(4711, "callback_query", "failed again and again", 8, 1_796_000_000.0)
    asyncio.run(SqlStores(engine).quarantine(entry))
    code, out = run(["updates"])
    assert code == 0
    assert "update 4711  callback_query  failed again and again (tries: 8)" in out


def test_check_warns_where_the_matcher_gives_an_example_another_topic(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, root)
    doctor = root / "topics" / "doctor" / "de.yaml"
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(text.replace('  - "wo finde ich einen arzt"', '  - "apotheke nachts offen"', 1))
    code, out = run(["check", str(root)])
    assert code == 0  # a warning, not an error
    (line,) = [line for line in out.splitlines() if "apotheke nachts offen" in line and "warning:" in line]
    assert line.startswith(f"{root / 'topics' / 'doctor' / 'de.yaml'}:11: warning: de: example 'apotheke nachts offen'")
    assert "is answered with 'pharmacy' (confidence" in line and "'doctor' 0." in line
    _, before = run(["check", str(FIXTURE_KB)])
    assert "is answered with" not in before  # the fixture's own examples land on their topics
    _, quick = run(["check", str(root), "--errors-only"])
    assert "apotheke nachts offen" not in quick  # the quick check (CI, the container build) skips it


def test_coverage_stale_lists_what_to_look_at_again(fixture_env: None) -> None:
    code, out = run(["coverage", "--stale", "--older-than", "30d"])
    assert code == 0
    assert out.splitlines()[0].endswith("outdated translation(s) (the German text changed since):")
    assert "translation(s) not reviewed by a speaker yet:" in out and "contact(s) whose source was read" in out


def test_chat_finds_a_town_as_the_telegram_town_step_does(dialogue: Dialogue) -> None:
    from bot.chat import run_chat

    out = io.StringIO()
    typed = "/city\nensse\nich wohne in ense\n1\nwo ist das kommunale integrationszentrum\n/quit\n"
    assert run_chat(dialogue, "de", None, io.StringIO(typed), out) == 0
    text = out.getvalue()
    assert "No town found by that name" in text  # "ensse": a short name needs every letter
    assert "1. Ense (Kreis Soest)" in text
    assert "[de/kreis-soest] you>" in text and "Hoher Weg 1-3" in text  # Kreis Soest's integration centre
