# Every target works on a fresh machine: it creates .venv and installs into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# test-fast: the inner loop, all but the tests marked slow.
.PHONY: install test test-fast demo lint format bench clean localstack-test reliability

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# worksteal: a worker that runs out takes queued tests from the other one.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -m 'not slow' tests

# The reliability suite in full (20 + 20 kill -9 trials, 20 instances booting under two
# dispatchers, ...) and its table of figures; `make test` runs a reduced version of it.
RELIABILITY_FIGURES := .pytest_cache/reliability
reliability: $(STAMP)
	rm -rf $(RELIABILITY_FIGURES)
	STACKOPS_RELIABILITY=full STACKOPS_RELIABILITY_FIGURES=$(RELIABILITY_FIGURES) \
		$(BIN)/python -m pytest -n 2 tests/reliability \
		tests/lifecycle/test_dispatch_redelivery.py tests/lifecycle/test_dispatch_faults.py \
		tests/lifecycle/test_dispatch_processes.py; \
	status=$$?; STACKOPS_RELIABILITY_FIGURES=$(RELIABILITY_FIGURES) $(BIN)/python -m tests.reliability.report \
		&& exit $$status

demo: $(STAMP)
	$(BIN)/python -m stackops.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/converge.py
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/deploy.py
	$(BIN)/python bench/autoscale.py
	$(BIN)/python bench/validation.py

# docs/cli.md and the generated parts of docs/recipes.md and docs/attributes.md (tests/test_docs.py)
.PHONY: docs
docs: $(STAMP)
	$(BIN)/python scripts/gen_docs.py

# The integration tests against a running LocalStack (localstack/README.md); fails when none answers.
LOCALSTACK_URL ?= http://localhost:4566
localstack-test: $(STAMP)
	@$(BIN)/python -c "import urllib.request; urllib.request.urlopen('$(LOCALSTACK_URL)/_localstack/health', timeout=3)" \
		|| { echo "no LocalStack at $(LOCALSTACK_URL): docker compose -f localstack/docker-compose.yml up -d"; exit 1; }
	STACKOPS_LOCALSTACK_URL=$(LOCALSTACK_URL) $(BIN)/python -m pytest -m localstack tests/localstack

clean:
	rm -rf $(VENV) .stackops .pytest_cache
