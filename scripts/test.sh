#!/usr/bin/env bash
# The test suite. Database tests run on SQLite and PostgreSQL (skipped, with the reason, when
# PostgreSQL is unreachable; CI sets WATCHROSTER_REQUIRE_POSTGRES=1 to make that a failure).
# The slowest tests are listed at the end: the whole CI run must stay under 20 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
uv run pytest --durations=15 "$@"
