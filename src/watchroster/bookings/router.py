"""HTTP endpoints of the bookings feature."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["bookings"])
