"""HTTP endpoints of the outbox feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["outbox"])
