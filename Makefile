# Developer commands. A fresh machine needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCALES := locales
LANGS  := de en ar fa uk ru tr ps ku ti so fr

.PHONY: run test test-slow check lint format typecheck eval bench chat i18n-extract i18n-update i18n-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $(STAMP)

run: $(STAMP)          ## set up and run the bot (SQLite by default); without a token: how to get one, then the chat
	$(BIN)/python -m bot run --chat-without-token

chat: $(STAMP)         ## talk to Lotse in the terminal, no Telegram token needed
	$(BIN)/python -m bot chat

test: $(STAMP)         ## set up and run all checks and tests (the slow fault scenarios: make test-slow)
	$(BIN)/python -m bot check knowledge --errors-only
	$(BIN)/ruff check bot tests bench scripts
	$(BIN)/ruff format --check bot tests bench scripts
	$(BIN)/mypy
	$(BIN)/mypy scripts
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(STAMP)    ## the fault scenarios on a real timeline (SIGKILL crashes, 429 storms, outages); CI runs them
	$(BIN)/python -m pytest -q -m slow

check: $(STAMP)        ## validate the knowledge files (volunteers: run this after an edit)
	$(BIN)/python -m bot check knowledge

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench scripts
	$(BIN)/ruff format --check bot tests bench scripts

format: $(STAMP)
	$(BIN)/ruff check --fix bot tests bench scripts
	$(BIN)/ruff format bot tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy scripts

eval: $(STAMP)         ## figures on the shared development set
	$(BIN)/python -m bot eval ../shared/eval/dev.yaml --quiet

bench: $(STAMP)
	$(BIN)/python bench/match.py

# The pybabel cycle: extract strings from the code into locales/messages.pot, merge them into every
# locales/<lang>/LC_MESSAGES/messages.po, translate, then check. Catalogs are compiled in memory at start.
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F locales/babel.cfg -k N_ --no-location --sort-output --project Lotse \
		--msgid-bugs-address lotse@localhost -o locales/messages.pot bot

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

i18n-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/core/test_i18n.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
