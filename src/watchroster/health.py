"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from watchroster import migrate
from watchroster.deps import ClockDep, DbDep
from watchroster.outbox.stats import outbox_stats

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving (touches nothing else)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "database unreachable or not migrated"}})
def readyz(db: DbDep, clock: ClockDep) -> Any:
    """The database answers and carries the latest migration; details include outbox counts."""
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
    try:
        with db.read() as session:
            details["outbox"] = outbox_stats(session, clock()).as_dict()
    except SQLAlchemyError as exc:
        # Counts are information, not readiness: a failed count does not take the API out.
        details["outbox"] = {"error": type(exc).__name__}
    return {"status": "ready", "details": details}
