"""FastAPI dependencies, as `Annotated` aliases so endpoint signatures stay short.

Endpoints own their transaction explicitly (`with db.write() as session:`), so the commit has
happened before the response is built; services below them only add and flush.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from watchroster.core.clock import Clock
from watchroster.core.config import Settings
from watchroster.core.rules import Rules
from watchroster.db.engine import Database
from watchroster.runtime.context import AppContext


def context_of(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def get_context(request: Request) -> AppContext:
    return context_of(request)


async def get_db(request: Request) -> Database:
    return context_of(request).db


async def get_settings_dep(request: Request) -> Settings:
    return context_of(request).settings


async def get_rules(request: Request) -> Rules:
    return context_of(request).rules


async def get_clock(request: Request) -> Clock:
    return context_of(request).clock


ContextDep = Annotated[AppContext, Depends(get_context)]
DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
RulesDep = Annotated[Rules, Depends(get_rules)]
