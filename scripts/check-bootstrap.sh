#!/usr/bin/env bash
# CI check: the README's first step works on a machine whose python3 is the system one (PEP 668).
# In a throwaway clone, with /usr/bin first on PATH and no uv anywhere on it, bootstrap uv and
# prove `uv sync --frozen` installs the project. The clone gets the working tree's bootstrap
# script, so an uncommitted change to it is what gets checked.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

git clone --quiet "$repo" "$work/clone"
cp "$repo/scripts/bootstrap-uv.sh" "$work/clone/scripts/bootstrap-uv.sh"
cd "$work/clone"

system_path="/usr/bin:/bin"
if PATH="$system_path" command -v uv >/dev/null 2>&1; then
  echo "check-bootstrap: uv is installed system-wide, so the bootstrap cannot be exercised" >&2
  exit 1
fi
env PATH="$system_path" PYTHON=/usr/bin/python3 bash scripts/bootstrap-uv.sh
test -x .tools/bin/uv
PATH="$PWD/.tools/bin:$system_path" UV_PYTHON_DOWNLOADS=never uv sync --frozen --quiet
PATH="$PWD/.tools/bin:$system_path" UV_PYTHON_DOWNLOADS=never uv run --frozen watchroster --help >/dev/null
echo "check-bootstrap: uv bootstrapped with /usr/bin/python3 and the project installed"
