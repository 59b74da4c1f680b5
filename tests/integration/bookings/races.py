"""The harness of the booking races against a real server: many volunteers with tokens, and
requests released together by a barrier, each on its own thread and connection."""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.server import running_server
from watchroster.auth.deps import TOKEN_PURPOSE
from watchroster.auth.models import AuthSession, User
from watchroster.core.clock import FrozenClock
from watchroster.core.config import Settings
from watchroster.core.security import keyed_hash, new_session_token
from watchroster.db.engine import Database

# The evenings of a daily 18:00 schedule (Johannesburg) from the clock's day, 1 May 2025, on.
TWENTY_EVENINGS = [f"2025-05-{day:02d}T18:00:00+02:00" for day in range(1, 21)]
# (method, path, json body, headers)
Request = tuple[str, str, dict[str, Any], dict[str, str]]


def members(db: Database, settings: Settings, clock: FrozenClock, count: int) -> list[str]:
    """`count` volunteers with a session token each, written in one transaction."""
    secret = settings.secret_key.get_secret_value()
    tokens = [new_session_token() for _ in range(count)]
    with db.write() as session:
        for index, token in enumerate(tokens):
            user = User(phone=f"+2782{5000000 + index:07d}", name=f"Volunteer {index}")
            session.add(user)
            session.flush()
            session.add(
                AuthSession(
                    user_id=user.user_id,
                    token_hash=keyed_hash(secret, TOKEN_PURPOSE, token),
                    created_at=clock(),
                    expires_at=clock() + timedelta(days=1),
                )
            )
    return tokens


def race_requests(base_url: str, requests: list[Request]) -> list[httpx.Response]:
    """Each request on its own thread (and connection), all released at once by a barrier."""
    barrier = threading.Barrier(len(requests))
    # One client shared by the threads (httpx clients are thread-safe): building one per thread
    # costs ~40 ms of CPU each, which would spread the "race" over seconds.
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    with httpx.Client(base_url=base_url, timeout=60, limits=limits) as http:

        def send(method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            barrier.wait()
            return http.request(method, path, json=body, headers=headers)

        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            return list(pool.map(lambda request: send(*request), requests))


def race(base_url: str, bodies: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    """One booking (POST /bookings) per (token, body), all released at once."""
    return race_requests(
        base_url,
        [("POST", "/bookings", body, {"Authorization": f"Bearer {t}"}) for t, body in bodies],
    )


def race_on_server(
    app: FastAPI, bodies: list[tuple[str, dict[str, Any]]]
) -> tuple[list[httpx.Response], Counter[int]]:
    """Race the bookings against a real server for `app`: the responses and their statuses."""
    with running_server(app) as base_url:
        responses = race(base_url, bodies)
    return responses, Counter(response.status_code for response in responses)


def random_evenings(
    schedule_id: int, tokens: list[str], seed: int
) -> list[tuple[str, dict[str, Any]]]:
    """Each token wants one of TWENTY_EVENINGS, chosen at random (seeded: a failure reruns)."""
    chooser = random.Random(seed)
    return [
        (token, {"schedule_id": schedule_id, "start_time": chooser.choice(TWENTY_EVENINGS)})
        for token in tokens
    ]


def scalar(db: Database, query: Any) -> int:
    with db.read() as session:
        return int(session.scalar(query) or 0)
