"""A real `watchroster serve` / `worker` refuses to start on a bad setting: exit 2, the variable's
name and the reason on stderr, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# `python -m watchroster` and the `watchroster` script the package installs: both entry points.
INSTALLED_SCRIPT = str(Path(sys.executable).with_name("watchroster"))


def run_watchroster(
    args: list[str], tmp_path: Path, *, script: bool = False, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHROSTER_")}
    env["WATCHROSTER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'never-created.db'}"
    env.update({f"WATCHROSTER_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run(
        ([INSTALLED_SCRIPT] if script else [sys.executable, "-m", "watchroster"]) + args,
        env=env,
        cwd=tmp_path,  # no .env file here
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("script", [False, True], ids=["python-m", "installed-script"])
@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["worker"]])
def test_a_bad_setting_stops_the_process_before_it_starts(
    command: list[str], script: bool, tmp_path: Path
) -> None:
    result = run_watchroster(
        command,
        tmp_path,
        script=script,
        trusted_proxies="10.0.0.0/8, 10.0.0.300",
        coverage_alert_time="8am",
    )
    assert result.returncode == 2, result.stderr
    assert "WATCHROSTER_TRUSTED_PROXIES: '10.0.0.300' is not an IP address" in result.stderr
    assert "WATCHROSTER_COVERAGE_ALERT_TIME: '8am' is not a time of day" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "never-created.db").exists()
