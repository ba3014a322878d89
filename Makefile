# One entry point for the developer's habits. Every target sets up .venv first if needed,
# so on a fresh clone `make run` and `make test` are the only two commands you need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: setup run demo test test-isolated test-wheel test-install lint typecheck format soak fuzz bench bench-live bench-traces bench-collect bench-peers clean constraints

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "trailcheck needs Python 3.11 or later; set PYTHON=/path/to/python3")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@# constraints.txt: the one tested set of versions, so every setup and CI run installs the same.
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,trace-producers]"
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP) ## create .venv and install trailcheck with the versions of constraints.txt

constraints: ## after changing a dependency in pyproject.toml: install it, then record the versions
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev,trace-producers]"
	{ sed -n '/^#/p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^trailcheck'; } > constraints.new
	mv constraints.new constraints.txt

run: $(STAMP) ## the main job: replay the bundled suite against the reference agent (Prefect local server, SQLite)
	$(BIN)/trailcheck run suites/support-desk.yaml --agent reference:v1

demo: $(STAMP) ## replay against reference v1 then v2 and show the regressions v2 brings
	$(BIN)/trailcheck demo

test: $(STAMP) ## lint, types, then the test suite in random order, the wheel in a fresh venv included (PostgreSQL on 127.0.0.1:5432 must be running; .ci/run starts it)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q -m "not soak and not install"

test-isolated: $(STAMP) ## every test module alone, in its own process (a module of soak tests only collects none: exit 5)
	@failed=""; for module in tests/test_*.py; do \
		$(BIN)/pytest -q -m "not soak and not wheel and not install" "$$module" >/dev/null 2>&1; rc=$$?; \
		[ $$rc -eq 0 ] || [ $$rc -eq 5 ] || failed="$$failed $$module"; \
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

test-install: $(STAMP) ## install trailcheck in fresh venvs: at its dependency floors, and beside the newest fastapi/pydantic
	$(BIN)/pytest -q -m install

soak: $(STAMP) ## slow load and fault tests
	$(BIN)/pytest -q -m soak

fuzz: $(STAMP) ## coverage-guided fuzzing (atheris) of the suite, agent-file and trace parsers, 60 s each
	for target in suite agent trace; do $(BIN)/python -m fuzz.targets $$target -max_total_time=60 || exit 1; done

bench: $(STAMP) ## replay overhead vs the physical limit, naive design, scoring and DB writes -> bench/results/
	$(BIN)/python -m bench.run

bench-live: $(STAMP) ## read+sample 1,000,000 traces, score 100,000, false alarms and detection delay -> bench/results/
	$(BIN)/python -m bench.live

bench-traces: $(STAMP) ## parse + convert OTel spans/s (OTLP JSON, protobuf) beside trailcheck JSONL -> bench/results/
	$(BIN)/python -m bench.traces

bench-collect: $(STAMP) ## trailcheck collect at 2,000 spans/s for 60 s, memory, and a kill -9 mid-load -> bench/results/
	$(BIN)/python -m bench.collect

bench-peers: $(STAMP) ## inspect-ai, DeepEval (and promptfoo with node) beside trailcheck at 100/1,000/10,000 cases -> bench/results/
	$(BIN)/python -m bench.peers $(BENCH_PEERS_ARGS)

clean:
	rm -rf $(VENV) .trailcheck .pytest_cache .ruff_cache .mypy_cache *.egg-info
