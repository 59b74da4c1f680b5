#!/usr/bin/env bash
# Makes `uv` available without touching the system Python: Debian 12 and Ubuntu 24.04 refuse
# `python3 -m pip install` there (PEP 668, "externally-managed-environment"). In order:
#   1. a uv already on PATH, or one installed by an earlier run in .tools/;
#   2. a private virtual environment, .tools/, with uv installed into it from PyPI;
#   3. pipx, when the venv module is missing (Debian's python3-venv package not installed).
# Callers put .tools/bin first on PATH (the Makefile and .ci/run do).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.tools"
python="${PYTHON:-python3}"

if command -v uv >/dev/null 2>&1 || [ -x "$tools/bin/uv" ]; then
  exit 0
fi
if "$python" -m venv "$tools" >/dev/null 2>&1; then
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check uv
  echo "uv installed in $tools/bin (a private venv; the system Python is untouched)"
  exit 0
fi
rm -rf "$tools"
if command -v pipx >/dev/null 2>&1; then
  PIPX_BIN_DIR="$tools/bin" pipx install uv
  exit 0
fi
echo "cannot install uv: $python has no venv module and pipx is missing." >&2
echo "Install one of them (Debian/Ubuntu: apt-get install python3-venv) or uv itself" >&2
echo "(https://docs.astral.sh/uv/getting-started/installation/), then run this again." >&2
exit 1
