"""Multiprocess metrics: a separate `watchroster worker`'s counters appear in `serve`'s /metrics
when both share PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode)."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.ops.processes import ServeProcess, watchroster_env
from tests.integration.outbox.processes import WorkerProcess, wait_for
from watchroster.db.engine import Database
from watchroster.db.migrate import upgrade


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _sent_rows(base_url: str) -> float:
    found = samples(httpx.get(f"{base_url}/metrics").text)
    return found.get(("watchroster_outbox_rows", (("status", "sent"),)), 0.0)


def test_serve_reports_the_deliveries_of_a_separate_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roster.db'}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    outbox_file = tmp_path / "messages.jsonl"
    env = {
        **watchroster_env(database_url=url, message_backend="file", message_file=str(outbox_file)),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    worker = WorkerProcess(env, tmp_path, "worker")
    try:
        with ServeProcess(url, tmp_path, "--no-worker", env=env) as server:
            worker.wait_started()
            registered = httpx.post(f"{server.url}/auth/register", json={"phone": "082 123 4567"})
            assert registered.status_code == 200, registered.text
            wait_for(lambda: outbox_file.exists() and outbox_file.read_text() != "", 30, "send")
            # The file gets the message before the worker commits the row as sent: wait for
            # the commit too, or the gauge may still count the row as pending.
            wait_for(lambda: _sent_rows(server.url) == 1, 30, "the row marked sent")
            scraped = httpx.get(f"{server.url}/metrics")
    finally:
        worker.stop()
    assert scraped.status_code == 200
    found = samples(scraped.text)
    sent = (("outcome", "sent"), ("provider", "file"))
    assert found[("watchroster_outbox_deliveries_total", sent)] == 1  # counted by the worker
    assert found[("watchroster_login_codes_sent_total", ())] == 1  # counted by serve
    route = (("method", "POST"), ("route", "/auth/register"), ("status", "200"))
    assert found[("watchroster_http_requests_total", route)] == 1
    assert found[("watchroster_outbox_rows", (("status", "sent"),))] == 1
