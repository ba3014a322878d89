# One entry point for the developer's habits. Every target sets up .venv first if needed,
# so on a fresh clone `make run` and `make test` are the only two commands you need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup run demo test test-isolated test-wheel lint typecheck format soak fuzz bench bench-live clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "trailcheck needs Python 3.11; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP) ## create .venv and install trailcheck with its pinned dependencies

run: $(STAMP) ## the main job: replay the bundled suite against the reference agent (Prefect local server, SQLite)
	$(BIN)/trailcheck run suites/support-desk.yaml --agent reference:v1

demo: $(STAMP) ## replay against reference v1 then v2 and show the regressions v2 brings
	$(BIN)/trailcheck demo

test: $(STAMP) ## lint, types, then the test suite in random order (PostgreSQL on 127.0.0.1:5432 must be running; .ci/run starts it)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -m "not soak and not wheel"

test-isolated: $(STAMP) ## every test module alone, in its own process: no test may lean on another module
	@failed=""; for module in tests/test_*.py; do \
		$(BIN)/pytest -q -m "not soak and not wheel" "$$module" >/dev/null 2>&1 || failed="$$failed $$module"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed alone:$$failed"; exit 1; else echo "every test module passed alone"; fi

test-wheel: $(STAMP) ## build the wheel, install it into a fresh venv beside openai-agents, run the demo there
	$(BIN)/pytest -q -m wheel tests/test_wheel.py

lint: $(STAMP) ## ruff and mypy (strict on trailcheck/models, loading, db)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

soak: $(STAMP) ## slow load and fault tests
	$(BIN)/pytest -q -m soak

fuzz: $(STAMP) ## coverage-guided fuzzing (atheris) of the suite, agent-file and trace parsers, 60 s each
	for target in suite agent trace; do $(BIN)/python -m fuzz.targets $$target -max_total_time=60 || exit 1; done

bench: $(STAMP) ## replay overhead vs the physical limit, naive design, scoring and DB writes -> bench/results/
	$(BIN)/python -m bench.run

bench-live: $(STAMP) ## read+sample 1,000,000 traces, score 100,000, false alarms and detection delay -> bench/results/
	$(BIN)/python -m bench.live

clean:
	rm -rf $(VENV) .trailcheck .pytest_cache .ruff_cache .mypy_cache *.egg-info
