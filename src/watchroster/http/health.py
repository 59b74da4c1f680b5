"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from watchroster.db import migrate
from watchroster.http.deps import ClockDep, DbDep

router = APIRouter(tags=["health"])
# A feature's figures for /readyz's details, e.g. the outbox counts (handed in by `app`).
ReadyDetail = Callable[[Session, datetime], dict[str, Any]]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving (touches nothing else)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database unreachable or not migrated"}})
def readyz(request: Request, db: DbDep, clock: ClockDep) -> Any:
    """The database answers and carries the latest migration; details include what the features
    hand in (`app.state.ready_details`: the outbox counts), so this layer imports no feature."""
    details: dict[str, Any] = {"database": db.engine.dialect.name}
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        migrated = migrate.is_up_to_date(db.engine)
    except SQLAlchemyError as exc:
        details["error"] = type(exc).__name__
        return JSONResponse(
            status_code=503,
            content={"error": "database unreachable", "code": "not_ready", "details": details},
        )
    details["migrated"] = migrated
    if not migrated:
        return JSONResponse(
            status_code=503,
            content={"error": "database not migrated", "code": "not_ready", "details": details},
        )
    readers: dict[str, ReadyDetail] = getattr(request.app.state, "ready_details", {})
    for name, read in readers.items():
        try:
            with db.read() as session:
                details[name] = read(session, clock())
        except SQLAlchemyError as exc:
            # Counts are information, not readiness: a failed count does not take the API out.
            details[name] = {"error": type(exc).__name__}
    return {"status": "ready", "details": details}
