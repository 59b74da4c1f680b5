"""The files in deploy/ are what an operator copies: they must parse, and do what they say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from watchroster.core.config import Settings
from watchroster.http.client_ip import resolve_client_ip

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
INSTALLED = "/opt/watchroster/venv/bin/watchroster"
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])


def directives(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_systemd_analyze_verifies_every_unit(tmp_path: Path) -> None:
    # verify checks that ExecStart programs exist: point them at this environment's command.
    here = str(Path(sys.executable).with_name("watchroster"))
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, here))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    # Unknown or malformed settings are only warnings (exit 0): any output is a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_serve_unit_is_hardened_and_restarts() -> None:
    serve = directives(DEPLOY / "watchroster.service")
    assert serve["Restart"] == ["on-failure"]
    assert serve["User"] == ["watchroster"]
    assert serve["ProtectSystem"] == ["strict"] and serve["NoNewPrivileges"] == ["yes"]
    # The database directory (WorkingDirectory, where the SQLite file lives) stays writable.
    assert serve["StateDirectory"][0].split()[0] == "watchroster"
    assert serve["WorkingDirectory"] == ["/var/lib/watchroster"]
    assert f"{INSTALLED} serve" in serve["ExecStart"]
    worker = directives(DEPLOY / "watchroster-worker.service")
    assert worker["ExecStart"] == [f"{INSTALLED} worker"]
    assert "/var/lib/watchroster" in worker["ReadWritePaths"][0].split()


def test_the_nightly_backup_keeps_the_last_copies(tmp_path: Path) -> None:
    backup = directives(DEPLOY / "watchroster-backup.service")
    assert directives(DEPLOY / "watchroster-backup.timer")["OnCalendar"] == ["*-*-* 03:15:00"]
    [prune] = backup["ExecStartPost"]
    command = re.fullmatch(r"/bin/sh -c '(.*)'", prune)
    assert command is not None
    now = time.time()
    for day in range(20):
        copy = tmp_path / f"watchroster-202501{day + 1:02d}T031500Z.db"
        copy.write_bytes(b"x")
        os.utime(copy, (now - 86400 * (20 - day), now - 86400 * (20 - day)))
    script = command.group(1).replace("/var/lib/watchroster/backups", str(tmp_path))
    subprocess.run(["/bin/sh", "-c", script], env={**os.environ, "KEEP": "3"}, check=True)
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert kept == [f"watchroster-202501{day}T031500Z.db" for day in (18, 19, 20)]


def test_the_example_settings_are_valid_and_trust_the_local_caddy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [name for name in os.environ if name.startswith("WATCHROSTER_")]:
        monkeypatch.delenv(name)
    settings = Settings(_env_file=DEPLOY / "watchroster.env")  # validated like at start
    assert settings.env == "production" and settings.host == "127.0.0.1"
    # Caddy on this machine forwards the client's address; the app believes it.
    assert "reverse_proxy 127.0.0.1:8000" in (DEPLOY / "Caddyfile").read_text()
    assert resolve_client_ip("127.0.0.1", "198.51.100.7", settings.trusted_proxies) == (
        "198.51.100.7"
    )
