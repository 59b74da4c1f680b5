#!/usr/bin/env bash
# Lint and type checks, as CI runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
uv run ruff check src tests bench
uv run ruff format --check src tests bench
uv run mypy
uv run lint-imports --no-cache  # the layering contracts in pyproject.toml
