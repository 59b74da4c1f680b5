"""The wheel `uv build` makes is complete: installed into an empty venv outside the checkout,
`watchroster migrate && watchroster serve` works, with its templates, static files and translations.

How it installs, and why that is honest and fast: `python -m venv --without-pip` makes an empty
environment (nothing from the project's `.venv` is visible in it), then `uv pip install WHEEL`
resolves the dependencies the wheel itself declares (its METADATA, not our lock file) and installs
them; uv's cache, warm after `uv sync`, makes that a few seconds instead of a minute of pip. Every
command then runs from a directory outside the checkout, so nothing can be imported from `src/`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port
from watchroster.core import i18n
from watchroster.db.migrate import head_revision

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
PACKAGE_DIR = ROOT / "src" / "watchroster"
# Compared with the wheel apart from caches and the checkout's own compiled catalogues (ignored by
# git, so a fresh clone has none): the wheel's are compiled by `hatch_build.py`, checked below.
NOT_SHIPPED_SUFFIXES = (".pyc", ".mo", ".mo.tmp")


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build the wheel (run the tests with `uv run pytest`)"
    return uv


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _clean_env(database_url: str) -> dict[str, str]:
    """Our environment without anything that points into the checkout or configures watchroster."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("WATCHROSTER_") and key not in dropped
    }
    env["WATCHROSTER_DATABASE_URL"] = database_url
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([_uv(), "build", "--wheel", "--out-dir", str(out), str(ROOT)], cwd=ROOT)
    (built,) = out.glob("watchroster-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(target)], cwd=target.parent)
    python = target / "bin" / "python"
    _run([_uv(), "pip", "install", "--python", str(python), str(wheel)], cwd=target.parent)
    return target


def test_the_wheel_holds_every_file_of_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("watchroster/")}
    in_tree = {
        "watchroster/" + path.relative_to(PACKAGE_DIR).as_posix()
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and not path.name.endswith(NOT_SHIPPED_SUFFIXES)
    }
    assert in_tree - shipped == set()
    for needed in (
        "watchroster/migrations/env.py",
        "watchroster/web/templates/login/login.html",
        "watchroster/web/static/app.css",
        "watchroster/locales/af/LC_MESSAGES/messages.po",
        "watchroster/static_docs/swagger-ui-bundle.js",
    ):
        assert needed in shipped


def test_the_wheel_ships_every_catalogue_compiled(wheel: Path) -> None:
    sources = sorted(i18n.LOCALES_DIR.glob("*/LC_MESSAGES/*.po"))
    assert len(sources) >= 2
    with zipfile.ZipFile(wheel) as archive:
        for po_file in sources:
            mo_name = po_file.with_suffix(".mo").relative_to(PACKAGE_DIR.parent).as_posix()
            assert archive.read(mo_name) == i18n._compile_po(po_file), mo_name


def test_the_installed_wheel_migrates_and_serves(venv: Path, tmp_path: Path) -> None:
    env = _clean_env(f"sqlite:///{tmp_path / 'watchroster.db'}")
    origin = _run(
        [str(venv / "bin" / "python"), "-c", "import watchroster; print(watchroster.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert Path(origin.strip()).is_relative_to(venv), origin

    migrated = _run([str(venv / "bin" / "watchroster"), "migrate"], cwd=tmp_path, env=env)
    # The checkout's newest revision: every migration file was shipped.
    assert f"at revision {head_revision()}" in migrated, migrated

    with _serving(venv, tmp_path, env) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["details"]["migrated"] is True
        login = httpx.get(f"{url}/login", headers={"accept-language": "af"})
        assert login.status_code == 200
        assert "Teken aan" in login.text  # the Afrikaans catalogue was shipped and found
        stylesheet = _first_stylesheet(login.text)
        css = httpx.get(f"{url}{stylesheet}")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert css.content == (PACKAGE_DIR / "web" / "static" / "app.css").read_bytes()
        assert httpx.get(f"{url}/docs/assets/swagger-ui.css").status_code == 200


def _first_stylesheet(page: str) -> str:
    start = page.index('href="/static/') + len('href="')
    return page[start : page.index('"', start)]


@contextmanager
def _serving(venv: Path, directory: Path, env: dict[str, str]) -> Iterator[str]:
    """`watchroster serve` from the venv on a free port, until the block ends."""
    port = free_port()
    log_path = directory / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "watchroster"), "serve", "--port", str(port)],
            cwd=directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, process, log_path)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"serve did not answer in 60 s:\n{log_path.read_text()}")
