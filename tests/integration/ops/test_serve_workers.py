"""`watchroster serve --workers 2`: a supervisor over two HTTP processes and one worker process,
seen from outside as real processes on SQLite (a file) and PostgreSQL.

Which process answered a request is read from Linux (`processes.ask_fresh`): the one holding the
server end of the connection. Every request goes on a new connection so the kernel spreads them
over the HTTP processes' SO_REUSEPORT sockets.
"""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from tests.integration.ops.processes import (
    Answer,
    ServeProcess,
    ask_fresh,
    child_pids,
    listening_pids,
    run_watchroster,
    watchroster_env,
)
from tests.integration.outbox.processes import sends_per_id, sent_lines, wait_for
from tests.support.auth import bearer, issue_token
from tests.support.factories import add_schedule, add_user
from tests.support.server import free_port
from watchroster.core.clock import system_clock
from watchroster.core.config import Settings
from watchroster.db.engine import Database
from watchroster.outbox.models import JobRun

pytestmark = pytest.mark.slow

SECRET_KEY = "serve-workers-test-secret-key-0123456789"
HEALTHZ = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
# The worker polls its outbox every second at most (`outbox_poll_seconds` is capped at 1 s), so
# a message sent within half a second of its response, twenty times in a row, was woken by the
# bell: by the poll alone each would have a one-in-two chance.
BELL_LATENCY_SECONDS = 0.5
WORKER_STARTED = re.compile(r"watchroster\.worker .*: worker \S+ started$")


class Deployment:
    """A running `serve --workers 2` and its processes, as found once it answers."""

    def __init__(self, server: ServeProcess) -> None:
        self.server = server
        self.port = server.port
        wait_for(lambda: len(child_pids(self.supervisor)) == 3, 10, "three children")
        self.children = set(child_pids(self.supervisor))
        wait_for(lambda: len(self.listeners()) == 2, 10, "two listening HTTP processes")
        self.http = self.listeners()
        [self.worker] = self.children - self.http

    @property
    def supervisor(self) -> int:
        return self.server.process.pid

    def listeners(self) -> set[int]:
        return listening_pids(self.port, child_pids(self.supervisor))

    def ask(self, path: str, method: str = "GET", body: object = None, **headers: str) -> Answer:
        return ask_fresh(self.port, self.http, path, method, body, headers)

    def ask_until_each_answers(self, path: str, limit: int = 60) -> list[Answer]:
        """GETs on new connections until every HTTP process has answered at least once."""
        answers: list[Answer] = []
        while {answer.pid for answer in answers} != self.http and len(answers) < limit:
            answers.append(self.ask(path))
        return answers


def serve_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    return {**watchroster_env(**settings), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}


def healthz_count(deployment: Deployment) -> tuple[float, int | None]:
    """The summed /healthz counter as one HTTP process reports it, and which process."""
    answer = deployment.ask("/metrics")
    assert answer.status == 200
    for family in text_string_to_metric_families(answer.body.decode()):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            if sample.name == "watchroster_http_requests_total" and labels == HEALTHZ:
                return sample.value, answer.pid
    return 0.0, answer.pid


def test_two_http_processes_answer_and_metrics_sum_over_them(db: Database, tmp_path: Path) -> None:
    env = serve_env(tmp_path)
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=env) as server:
        deployment = Deployment(server)
        assert deployment.supervisor not in deployment.children
        before, _ = healthz_count(deployment)
        answers = [deployment.ask("/healthz") for _ in range(40)]
        assert {answer.status for answer in answers} == {200}
        answered = Counter(answer.pid for answer in answers)
        assert set(answered) == deployment.http, answered
        # Each process's /metrics shows the sum over both, not its own share.
        scrapes = {}
        for _ in range(60):
            value, pid = healthz_count(deployment)
            scrapes[pid] = value
            if set(scrapes) == deployment.http:
                break
        assert scrapes == {pid: before + 40 for pid in deployment.http}, (answered, scrapes)
        counted = {path.stem.rsplit("_", 1)[1] for path in (tmp_path / "metrics").glob("*.db")}
        assert {str(pid) for pid in deployment.http} <= counted


def volunteer_tokens(db: Database, count: int) -> dict[str, str]:
    """`count` volunteers: each one's phone number and session token (valid on the server,
    which has the same secret key)."""
    settings = Settings(_env_file=None, database_url=db.url, secret_key=SecretStr(SECRET_KEY))
    tokens = {}
    for index in range(count):
        phone = f"+2782555{index:04d}"
        user = add_user(db, phone, f"Volunteer {index}")
        tokens[phone] = issue_token(db, settings, user, system_clock)
    return tokens


def first_slot(deployment: Deployment, schedule_id: int) -> str:
    answer = deployment.ask(f"/shifts/available?schedule_id={schedule_id}&limit=1")
    assert answer.status == 200, answer.body
    start: str = json.loads(answer.body)[0]["start_time"]
    return start


def sent_at(message_file: Path, recipient: str) -> datetime | None:
    for line in sent_lines(message_file):
        if line["recipient"] == recipient:
            return datetime.fromisoformat(line["sent_at"])
    return None


def was_sent(message_file: Path, recipient: str) -> bool:
    return sent_at(message_file, recipient) is not None


def test_one_worker_process_sends_each_message_once_promptly_and_runs_the_jobs(
    db: Database, tmp_path: Path
) -> None:
    """Booking confirmations: queued with a wake-up at commit (login codes deliberately are not,
    `auth.service.send_login_code`, so only the poll sends those)."""
    tokens = volunteer_tokens(db, 20)
    schedule = add_schedule(db, name="Nightly patrol", cron_expr="0 18 * * *", seats=20)
    message_file = tmp_path / "messages.jsonl"
    settings = {"message_file": str(message_file), "outbox_poll_seconds": "1.0"}
    env = serve_env(tmp_path, message_backend="file", secret_key=SECRET_KEY, **settings)
    latencies, answered_by = [], set()
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=env, log_level="INFO") as server:
        deployment = Deployment(server)
        start = first_slot(deployment, schedule.schedule_id)
        body = {"schedule_id": schedule.schedule_id, "start_time": start}
        for phone, token in tokens.items():
            answer = deployment.ask("/bookings", "POST", body, **bearer(token))
            responded = datetime.now().astimezone()
            assert answer.status == 201, answer.body
            answered_by.add(answer.pid)
            wait_for(partial(was_sent, message_file, phone), 5, f"the message to {phone}")
            latencies.append((sent_at(message_file, phone) or responded) - responded)
        # Some job runs are due at every start (hourly ones): the worker's first round ran them.
        wait_for(lambda: job_workers(db) != [], 10, "a job run")
    assert answered_by == deployment.http, "both HTTP processes must have rung the bell"
    slowest = max(latency.total_seconds() for latency in latencies)
    assert slowest < BELL_LATENCY_SECONDS, latencies
    # The server has stopped: nothing can be sent late (twice) any more.
    sends = sends_per_id(message_file)
    assert len(sends) == 20 and set(sends.values()) == {1}, sends
    assert sorted(line["recipient"] for line in sent_lines(message_file)) == sorted(tokens)
    # Every run was claimed by the worker process, which started one worker loop.
    [worker_id] = set(job_workers(db))
    assert worker_id.split(":")[1] == str(deployment.worker)
    started = [line for line in server.log().splitlines() if WORKER_STARTED.search(line)]
    assert len(started) == 1 and started[0].endswith(f"worker {worker_id} started"), started


def job_workers(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(JobRun.worker)))


def slot_times(answer: Answer) -> set[str]:
    """The local start times ("HH:MM") of the slots in an /shifts/available answer."""
    assert answer.status == 200, answer.body
    slots = json.loads(answer.body)
    assert slots, "no slots offered"
    return {slot["start_time"][11:16] for slot in slots}


def test_a_schedule_changed_through_one_process_is_never_served_stale_by_the_other(
    db: Database, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, database_url=db.url, secret_key=SecretStr(SECRET_KEY))
    admin = add_user(db, "+27821230099", "Coordinator", role="admin")
    auth = bearer(issue_token(db, settings, admin, system_clock))
    env = serve_env(tmp_path, secret_key=SECRET_KEY)
    with ServeProcess(db.url, tmp_path, "--workers", "2", env=env) as server:
        deployment = Deployment(server)
        body = {"name": "Nightly patrol", "cron_expr": "0 18 * * *", "duration_minutes": 120}
        created = deployment.ask("/schedules", "POST", body, **auth)
        assert created.status == 201, created.body
        schedule_id = json.loads(created.body)["schedule_id"]
        path = f"/shifts/available?schedule_id={schedule_id}"
        warm = deployment.ask_until_each_answers(path)  # both processes cache the slots
        assert {answer.pid for answer in warm} == deployment.http
        assert set().union(*map(slot_times, warm)) == {"18:00"}
        later = {"cron_expr": "30 19 * * *"}
        changed = deployment.ask(f"/schedules/{schedule_id}", "PATCH", later, **auth)
        assert changed.status == 200, changed.body
        after = [deployment.ask(path) for _ in range(30)]
    assert {answer.pid for answer in after} == deployment.http
    assert [slot_times(answer) for answer in after] == [{"19:30"}] * 30


def test_refuses_several_workers_on_an_in_memory_database(tmp_path: Path) -> None:
    port = str(free_port())
    result = run_watchroster(
        ["serve", "--workers", "2", "--port", port], tmp_path, database_url="sqlite://"
    )
    assert result.returncode == 2, result.stderr
    assert "--workers" in result.stderr


def test_refuses_a_port_another_server_listens_on(db: Database, tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = str(other.getsockname()[1])
        result = run_watchroster(
            ["serve", "--workers", "2", "--port", port], tmp_path, database_url=db.url
        )
    assert result.returncode == 3, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
