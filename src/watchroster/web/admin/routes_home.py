"""The console's front page: where each area is, in a coordinator's words."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from watchroster.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/admin")
async def console_home(request: Request) -> Response:
    return render(request, "admin/home.html", {"section": "admin", "area": "home"})
