"""HTTP endpoints of the auth feature: login by code, logout, the caller's account, user admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from watchroster.auth import actions, service
from watchroster.auth.deps import AdminUser, CurrentUser
from watchroster.auth.schemas import (
    LoginOut,
    MemberOut,
    MePatch,
    MessageOut,
    RegisterIn,
    UserOut,
    UserPatch,
    VerifyIn,
)
from watchroster.core import i18n
from watchroster.core.errors import Unauthorized
from watchroster.core.fields import PathId
from watchroster.core.phones import normalise_phone
from watchroster.http.client_ip import client_ip
from watchroster.http.deps import ClockDep, ContextDep, DbDep, SettingsDep

router = APIRouter(tags=["auth"])

OTP_SENT = "OTP sent"
UserId = PathId
_AUTH_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing, unknown, expired or revoked token"}
}
_ADMIN_RESPONSES: dict[int | str, dict[str, str]] = {
    **_AUTH_RESPONSES,
    403: {"description": "Admins only"},
}


@router.post(
    "/auth/register",
    response_model=MessageOut,
    responses={429: {"description": "Too many codes for this number or client; see Retry-After"}},
)
def register(
    body: RegisterIn, request: Request, db: DbDep, settings: SettingsDep, clock: ClockDep
) -> MessageOut:
    """Send a login code. The answer is the same whether or not the number has an account."""
    # Parsed before the write transaction: garbage never queues behind real logins.
    phone = normalise_phone(body.phone, settings.default_region)
    ip = client_ip(request, settings.trusted_proxies)
    # For a number with no saved language: the client's Accept-Language, else the default.
    asked = i18n.negotiate(None, request.headers.get("accept-language"), settings.default_language)
    with db.write() as session:
        service.send_login_code(
            session,
            settings,
            phone=phone,
            name=body.name,
            client_ip=ip,
            now=clock(),
            language=asked,
        )
    return MessageOut(message=OTP_SENT)


@router.post(
    "/auth/verify",
    response_model=LoginOut,
    responses={
        401: {"description": "Invalid or expired code"},
        429: {"description": "Too many attempts from this client; see Retry-After"},
    },
)
def verify(
    body: VerifyIn, request: Request, db: DbDep, settings: SettingsDep, clock: ClockDep
) -> LoginOut:
    """Trade a valid code for a bearer token (the account is created on first login)."""
    phone = normalise_phone(body.phone, settings.default_region)
    ip = client_ip(request, settings.trusted_proxies)
    with db.write() as session:
        login = service.verify_code(
            session, settings, phone=phone, code=body.code, client_ip=ip, now=clock()
        )
        result = None if login is None else LoginOut.of(login.token, login.expires_at, login.user)
    # Raised after the commit, so the failed attempt stays counted.
    if result is None:
        raise Unauthorized("invalid or expired code", code="invalid_code")
    return result


@router.post("/auth/logout", status_code=204, responses=_AUTH_RESPONSES)
def logout(principal: CurrentUser, db: DbDep, clock: ClockDep) -> Response:
    """Revoke the token this request was made with."""
    with db.write() as session:
        service.revoke_session(session, principal.session_id, clock())
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, responses=_AUTH_RESPONSES)
def read_me(principal: CurrentUser, context: ContextDep) -> UserOut:
    with context.db.read() as session:
        me = UserOut.of(service.get_user(session, principal.user_id))
    # The calendar feature sits above auth (import layers): `create_app` hands its lookup over.
    find = context.hooks.calendar_url
    if find is not None:
        me.calendar_url = find(context, principal.user_id)
    return me


@router.patch("/me", response_model=UserOut, responses=_AUTH_RESPONSES)
def update_me(body: MePatch, principal: CurrentUser, db: DbDep) -> UserOut:
    """Change your name, message channel or reminder preference."""
    with db.write() as session:
        return UserOut.of(service.update_me(session, principal.user_id, body))


@router.delete("/me", status_code=204, responses=_AUTH_RESPONSES)
def erase_me(principal: CurrentUser, context: ContextDep) -> Response:
    """Erase your account: phone and name removed, sessions ended, future bookings cancelled.
    Past attendance stays, anonymised, for the group's statistics."""
    with context.db.write() as session:
        actions.erase_my_account(session, context, principal)
    return Response(status_code=204)


@router.get("/users", response_model=list[MemberOut], responses=_ADMIN_RESPONSES)
def list_users(
    _admin: AdminUser,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[MemberOut]:
    """Members with their numbers masked: reading a full number is `POST /users/{id}/phone`,
    which is logged (a list would hand every number over unlogged)."""
    with db.read() as session:
        users = service.list_users(session, limit=limit, offset=offset)
        return [MemberOut.of(user) for user in users]


@router.patch(
    "/users/{user_id}",
    response_model=MemberOut,
    responses={
        **_ADMIN_RESPONSES,
        404: {"description": "No such user"},
        409: {"description": "Own role or active flag, or an erased account"},
    },
)
def update_user(
    user_id: UserId, body: UserPatch, admin: AdminUser, context: ContextDep
) -> MemberOut:
    """Change a user's role or active flag; deactivating ends all of their sessions at once."""
    with context.db.write() as session:
        return MemberOut.of(actions.change_access(session, context, admin, user_id, body))
