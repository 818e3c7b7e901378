.DEFAULT_GOAL := help
PY := .venv/bin/python

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

setup: ## Create .venv with pinned dependencies (idempotent)
	bash scripts/setup_venv.sh

run: setup ## Ingest the bundled sample corpus and build the warehouse
	$(PY) cli.py run

test: setup ## Run the tests (needs ../shared/ncslgr-xml or NCSLGR_DIR)
	$(PY) -m pytest

lint: setup ## ruff and mypy
	$(PY) -m ruff check ingest ml signaffect read pipeline commands cli.py tests bench
	$(PY) -m mypy ingest ml signaffect read pipeline commands cli.py

docs: setup ## dbt docs generate (target/index.html)
	. .venv/bin/activate && dbt docs generate

bench: setup ## Benchmarks on the real corpus
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

clean: ## Remove the warehouse, dbt target and artifacts
	rm -rf warehouse target logs artifacts

.PHONY: help setup run test lint docs bench clean
