# Two commands on a fresh machine: `make run` brings the suite up, `make test` runs the tests.
# Each sets up the virtual environment and dependencies first (the `install` target).

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run demo test test-unit lint bench up down clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	bash deploy/ensure-cjk-font.sh
	touch $(STAMP)

run: install
	$(PY) -m deploy.launcher

demo: install
	$(PY) -m deploy.demo

test: install
	$(PY) -m pytest

test-unit: install
	$(PY) -m pytest tests/unit

bench: install
	$(PY) -m bench $(BENCH)

lint: install
	$(PY) -m ruff check .

up:
	docker compose -f deploy/docker-compose.yml up --build -d

down:
	docker compose -f deploy/docker-compose.yml down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache demo-output
