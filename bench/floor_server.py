"""`watchroster serve` plus three POST routes that do nothing but database round trips.

Run by `bench/bench_booking_floor.py` only, never deployed. Each route takes what a booking
request carries (a `BookingCreate` JSON body and a bearer token, both parsed as the booking route
parses them) and runs, on the path a booking's transaction takes (`context.writes`: the thread
pool on PostgreSQL), nothing but `SELECT 1`:

- `/floor/autocommit-1`: one statement on a pooled connection in autocommit (1 round trip);
- `/floor/transaction-1`: one statement in a transaction (BEGIN, SELECT, COMMIT: 3);
- `/floor/transaction-6`: six statements in a transaction (8, as many as a booking makes).

Whatever a booking does on top (the session lookup, its rules, real rows and indexes, the
confirmation, the response) only costs more, so these are ceilings for any booking design through
this app on this machine.

    python -m bench.floor_server --port 8000 [--workers N]
"""

from __future__ import annotations

import argparse
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import literal, select
from starlette.concurrency import run_in_threadpool

from watchroster import app as app_module
from watchroster.auth.deps import TokenHash
from watchroster.bookings.schemas import BookingCreate
from watchroster.cli import serving
from watchroster.core.config import get_settings
from watchroster.db.rawsql import Prepared, RawTransaction
from watchroster.http.deps import context_of

_ONE = Prepared(lambda _dialect: select(literal(1)))
_DONE = b'{"status": "ok"}'

router = APIRouter()


def _statements(count: int) -> Any:
    def work(transaction: RawTransaction) -> None:
        for _ in range(count):
            transaction.first(_ONE, {})

    return work


@router.post("/floor/transaction-{count}", status_code=201)
async def in_transaction(
    count: int, body: BookingCreate, token_hash: TokenHash, request: Request
) -> Response:
    await context_of(request).writes.run(_statements(count))
    return Response(_DONE, status_code=201, media_type="application/json")


@router.post("/floor/autocommit-1", status_code=201)
async def autocommit(body: BookingCreate, token_hash: TokenHash, request: Request) -> Response:
    engine = context_of(request).db.engine

    def one() -> None:
        pooled = engine.raw_connection()
        try:
            connection = pooled.driver_connection
            assert connection is not None
            connection.autocommit = True
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
            finally:
                connection.autocommit = False
        finally:
            pooled.close()

    await run_in_threadpool(one)
    return Response(_DONE, status_code=201, media_type="application/json")


def _with_floor_routes(real_create_app: Any) -> Any:
    def create_app(*args: Any, **kwargs: Any) -> FastAPI:
        application: FastAPI = real_create_app(*args, **kwargs)
        application.include_router(router)
        return application

    return create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    parser.add_argument("--no-worker", action="store_true", help="always so: no dispatcher")
    args = parser.parse_args()
    settings = get_settings()
    # `serving` imports `create_app` from this module when it builds the app.
    app_module.create_app = _with_floor_routes(app_module.create_app)
    count = serving.worker_count(settings, args.workers)
    if count == 1:
        serving.serve_one(settings, "127.0.0.1", args.port, embedded_worker=False)
        return
    status = serving.serve_many(settings, "127.0.0.1", args.port, count, embedded_worker=False)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
