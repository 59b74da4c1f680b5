# The commands the README documents. Each bootstraps uv if the machine lacks it: into a private
# venv, .tools/, never the system Python (PEP 668 refuses that on Debian 12 / Ubuntu 24.04).
export PATH := $(CURDIR)/.tools/bin:$(PATH)
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test lint format install migrate demo serve worker bench clean messages compile-messages

# Bytecode compiled once, at install: where PYTHONDONTWRITEBYTECODE is set, every start would
# otherwise compile the dependencies again (`serve` 2.6 s instead of 0.9 s: bench/bench_startup.py).
install:
	@bash scripts/bootstrap-uv.sh
	$(UV) sync --frozen --compile-bytecode

run: install compile-messages  ## migrate a local SQLite file, load the demo roster, serve on :8000
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

serve: install compile-messages
	$(UV) run watchroster serve

worker: install
	$(UV) run watchroster worker

bench: install  ## benchmarks, run by hand (they need `wrk`: apt-get install -y wrk)
	$(UV) run python -m bench.bench_recurrence
	$(UV) run python -m bench.bench_availability
	$(UV) run python -m bench.bench_outbox
	$(UV) run python -m bench.bench_booking
	$(UV) run python -m bench.bench_booking_floor
	$(UV) run python -m bench.bench_stall
	$(UV) run python -m bench.bench_register_timing
	$(UV) run python -m bench.bench_web
	$(UV) run python -m bench.bench_startup

LOCALES := src/watchroster/locales

messages: install  ## extract the strings to translate and merge them into the af/zu catalogues
	$(UV) run pybabel extract -F babel.cfg -o $(LOCALES)/messages.pot -c TRANSLATORS: -w 100 \
		--project watchroster --copyright-holder "watchroster contributors" .
	$(UV) run pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -w 100 --ignore-obsolete

compile-messages: install  ## the .mo files (not committed; the app also builds them on first use)
	$(UV) run pybabel compile -d $(LOCALES) --statistics

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache watchroster.db*
