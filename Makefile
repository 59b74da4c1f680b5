# The commands the README documents. Each bootstraps uv (from PyPI) if the machine lacks it.
UV ?= uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint format install migrate demo serve worker bench clean

install:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

run: install  ## migrate a local SQLite file, load the demo roster, serve on :8000
	$(UV) run watchroster migrate
	$(UV) run watchroster demo
	$(UV) run watchroster serve

test: install  ## lint, type checks and the whole suite (SQLite and, when reachable, PostgreSQL)
	bash scripts/lint.sh
	bash scripts/test.sh

lint: install
	bash scripts/lint.sh

format: install
	$(UV) run ruff format src tests bench
	$(UV) run ruff check --fix src tests bench

migrate: install
	$(UV) run watchroster migrate

demo: install
	$(UV) run watchroster demo

serve: install
	$(UV) run watchroster serve

worker: install
	$(UV) run watchroster worker

bench: install  ## benchmarks, run by hand (they need `wrk`: apt-get install -y wrk)
	$(UV) run python -m bench.bench_recurrence
	$(UV) run python -m bench.bench_availability
	$(UV) run python -m bench.bench_outbox
	$(UV) run python -m bench.bench_booking

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache watchroster.db*
