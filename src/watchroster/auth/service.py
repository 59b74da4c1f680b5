"""Login by one-time code, sessions and accounts. Callers own the transaction; these add and flush.

Codes and tokens are stored only as keyed hashes (HMAC with the secret key), so a copy of the
database alone neither logs anyone in nor lets guesses be tested offline.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from watchroster.auth import erasure, ratelimit
from watchroster.auth.deps import TOKEN_PURPOSE
from watchroster.auth.models import ROLE_ADMIN, ROLE_VOLUNTEER, AuthSession, LoginCode, User
from watchroster.auth.schemas import MePatch, UserPatch
from watchroster.core import i18n
from watchroster.core.config import Settings
from watchroster.core.errors import AppError, Conflict, NotFound, TooManyRequests
from watchroster.core.logs import mask_phone
from watchroster.core.phones import may_receive_messages, normalise_phone, region_of
from watchroster.core.rules import Rules
from watchroster.core.security import hashes_match, keyed_hash, new_login_code, new_session_token
from watchroster.http import metrics
from watchroster.outbox.operations import forget_recipient
from watchroster.outbox.service import queue_message, seal_payload

log = logging.getLogger("watchroster.auth")

CODE_PURPOSE = "login-code"
REFUSED_CODE_PURPOSE = "refused-login-code"
KIND_CODE_REFUSED = "code_refused"  # an auth event no abuse limit counts
MESSAGE_TYPE_OTP = "otp"


def code_hash(settings: Settings, phone: str, code: str) -> str:
    # Bound to the phone: a code hash copied to another number's row matches nothing.
    return keyed_hash(settings.secret_key.get_secret_value(), CODE_PURPOSE, f"{phone}:{code}")


def token_hash(settings: Settings, token: str) -> str:
    return keyed_hash(settings.secret_key.get_secret_value(), TOKEN_PURPOSE, token)


def _secret(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def user_by_phone(session: Session, phone: str) -> User | None:
    return session.scalar(select(User).where(User.phone == phone))


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    return user


# --- sending a code -------------------------------------------------------------------------------


def send_login_code(
    session: Session,
    settings: Settings,
    *,
    phone: str,
    name: str | None,
    client_ip: str,
    now: datetime,
    language: str | None = None,
) -> None:
    """Issue a code for `phone` (E.164) and queue it, unless a limit, the region or a deactivated
    account says no. The caller answers the same in every case but the 429, which any number
    gets alike: nothing here may tell a known number from an unknown one. The message is in the
    account's language, else `language` (the page's), else WATCHROSTER_DEFAULT_LANGUAGE."""
    ratelimit.serialise_sends(session, phone, client_ip)
    try:
        ratelimit.check_send_allowed(session, settings, phone, client_ip, now)
    except TooManyRequests:
        metrics.LOGIN_CODES_REFUSED.labels("rate_limited").inc()
        raise
    ratelimit.record_event(session, ratelimit.KIND_CODE_SENT, phone, client_ip, now)
    user = user_by_phone(session, phone)
    refusal = _refusal(settings, phone, user)
    # A refused number gets the same work as one that is sent a code (the same reads, hashing,
    # code-row write and sealing), so the response time does not tell them apart (issue #9);
    # its row holds a hash no code can match, and nothing is queued.
    code = new_login_code()
    expires_at = now + timedelta(seconds=settings.otp_ttl_seconds)
    hashed = code_hash(settings, phone, code) if refusal is None else _unusable_code_hash(settings)
    _replace_code(session, phone, hashed, name, now, expires_at)
    saved = user.language if user is not None else None
    lang = i18n.message_language(saved, settings.default_language, language)
    body = login_code_text(code, settings.otp_ttl_seconds // 60, lang)
    if refusal is not None:
        seal_payload(body, {"code": code}, _secret(settings))  # the cost of queueing, not stored
        # In place of the outbox row a sent code writes: one INSERT either way, so PostgreSQL's
        # round trips match too. Kept, like the sends, only as long as the abuse limits need.
        ratelimit.record_event(session, KIND_CODE_REFUSED, phone, client_ip, now)
        log.log(refusal.level, "login code not sent to %s: %s", mask_phone(phone), refusal.reason)
        metrics.LOGIN_CODES_REFUSED.labels(refusal.kind).inc()
        return
    queue_message(
        session,
        message_type=MESSAGE_TYPE_OTP,
        recipient=phone,
        body=body,
        now=now,
        params={"code": code},
        channel=user.channel if user is not None else None,
        dedupe_key=None,
        expires_at=expires_at,
        seal_with=_secret(settings),
        # No wake-up at commit: the dispatcher takes the code at its next poll (<= 1 s, as it
        # takes codes queued by other processes). Woken, its send overlapped this response and
        # made a code that was queued 1-3 ms slower to answer than a refused one (issue #9).
        wake=False,
    )
    log.info("login code queued for %s", mask_phone(phone))
    metrics.LOGIN_CODES_SENT.inc()


def login_code_text(code: str, minutes: int, lang: str) -> str:
    _ = i18n.gettext_for(lang)
    text = _(
        "Your watchroster login code is %(code)s. It expires in %(minutes)d minutes. "
        "Never share it with anyone."
    )
    return text % {"code": code, "minutes": minutes}


@dataclass(frozen=True)
class _Refusal:
    level: int
    reason: str
    kind: str  # the metric label


def _refusal(settings: Settings, phone: str, user: User | None) -> _Refusal | None:
    """Why no code may be sent to `phone`, or None when one may."""
    if not may_receive_messages(phone, settings.otp_allowed_regions):
        # Possible SMS pumping: worth an operator's attention.
        reason = f"region {region_of(phone)} is not in WATCHROSTER_OTP_ALLOWED_REGIONS"
        return _Refusal(logging.WARNING, reason, "region")
    if user is not None and not user.active:
        return _Refusal(logging.INFO, "account deactivated", "deactivated")
    return None


def _unusable_code_hash(settings: Settings) -> str:
    # Keyed under another purpose, of 256 random bits: no code submitted to verify can match it.
    return keyed_hash(_secret(settings), REFUSED_CODE_PURPOSE, new_session_token())


def _replace_code(
    session: Session,
    phone: str,
    hashed: str,
    name: str | None,
    now: datetime,
    expires_at: datetime,
) -> None:
    # Sends for one phone are serialised (ratelimit.serialise_sends), so read-then-write is safe.
    row = session.get(LoginCode, phone) or LoginCode(phone=phone)
    row.code_hash = hashed
    row.name = name
    row.created_at = now
    row.expires_at = expires_at
    row.failed_attempts = 0
    row.used_at = None
    session.add(row)
    session.flush()


# --- checking a code ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: datetime
    user: User


def verify_code(
    session: Session,
    settings: Settings,
    *,
    phone: str,
    code: str,
    client_ip: str,
    now: datetime,
) -> Login | None:
    """A new session for the owner of a valid code, creating the user on first login.

    Returns None for every failure instead of raising, so the caller commits the counted attempt
    (and the code's failure count) before answering the one generic 401.
    """
    ratelimit.check_verify_allowed(session, settings, client_ip, now)
    ratelimit.record_event(session, ratelimit.KIND_VERIFY, phone, client_ip, now)
    if not _consume_code(session, settings, phone, code, now):
        return None
    user = user_by_phone(session, phone)
    if user is None:
        name_at_register = session.scalar(select(LoginCode.name).where(LoginCode.phone == phone))
        user = _create_user(session, phone, name_at_register, now)
    elif not user.active:
        return None
    if phone in admin_phones(settings) and user.role != ROLE_ADMIN:
        user.role = ROLE_ADMIN
        log.info("user %s made admin (WATCHROSTER_ADMIN_PHONES)", user.user_id)
    token, expires_at = open_session(session, settings, user.user_id, now)
    return Login(token=token, expires_at=expires_at, user=user)


def _consume_code(
    session: Session, settings: Settings, phone: str, code: str, now: datetime
) -> bool:
    """Use the phone's code once; True when `code` was its valid, unused, unexpired code.

    Both outcomes are conditional UPDATEs: of ten parallel checks of one valid code exactly one
    changes the row (PostgreSQL re-checks the WHERE after waiting on the row lock; SQLite runs
    write transactions one at a time), and concurrent wrong guesses cannot lose increments.
    """
    stored = session.scalar(select(LoginCode.code_hash).where(LoginCode.phone == phone))
    if stored is None:
        return False
    candidate = code_hash(settings, phone, code)
    live = (
        (LoginCode.phone == phone)
        & LoginCode.used_at.is_(None)
        & (LoginCode.failed_attempts < settings.otp_max_attempts)
        & (LoginCode.expires_at > now)
    )
    if not hashes_match(stored, candidate):
        session.execute(
            update(LoginCode)
            .where(live)
            .values(failed_attempts=LoginCode.failed_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return False
    used = session.execute(
        update(LoginCode)
        .where(live, LoginCode.code_hash == candidate)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(used) == 1


def _create_user(session: Session, phone: str, name: str | None, now: datetime) -> User:
    user = User(
        phone=phone,
        name=name,
        role=ROLE_VOLUNTEER,
        active=True,
        channel="sms",
        reminders=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def admin_phones(settings: Settings) -> frozenset[str]:
    """WATCHROSTER_ADMIN_PHONES in E.164; an entry that does not parse is logged and skipped."""
    phones: set[str] = set()
    for raw in settings.split_list(settings.admin_phones):
        try:
            phones.add(normalise_phone(raw, settings.default_region, "admin_phones"))
        except AppError:
            log.warning("WATCHROSTER_ADMIN_PHONES: ignoring an entry that is not a valid number")
    return frozenset(phones)


# --- sessions -------------------------------------------------------------------------------------


def open_session(
    session: Session, settings: Settings, user_id: int, now: datetime
) -> tuple[str, datetime]:
    """A new bearer token for `user_id` and its expiry; only the token's hash is stored."""
    token = new_session_token()
    expires_at = now + timedelta(days=settings.session_ttl_days)
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=token_hash(settings, token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return token, expires_at


def revoke_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.session_id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_all_sessions(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


# --- the caller's own account ---------------------------------------------------------------------


def update_me(session: Session, user_id: int, data: MePatch) -> User:
    user = get_user(session, user_id)
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    session.flush()
    return user


def erase_account(
    session: Session,
    user_id: int,
    now: datetime,
    rules: Rules,
    hooks: Sequence[erasure.ErasureHook],
) -> None:
    """Remove the person, keep the statistics: the user row stays (bookings and reports point at
    it) without phone, name or language; sessions end, the login code goes, future bookings are
    cancelled, queued messages to the number expire, the outbox and buddy entries lose the number,
    and stored replies of retried requests are deleted. The features above auth do their part
    through `hooks` (the context's, `auth.erasure`; bookings: `bookings.erasure.forget_user`)."""
    user = get_user(session, user_id)
    phone = user.phone
    # First: while the number is still here.
    erasure.run_hooks(hooks, session, user_id, phone, now, rules)
    revoke_all_sessions(session, user_id, now)
    if phone is not None:
        session.execute(delete(LoginCode).where(LoginCode.phone == phone))
        ratelimit.forget_phone(session, phone, now)
        forget_recipient(session, phone, now)
    user.phone = None
    user.name = None
    user.language = None
    user.active = False
    user.erased_at = now
    session.flush()
    log.info("user %s erased their account", user_id)


# --- administration -------------------------------------------------------------------------------


def list_users(session: Session, *, limit: int, offset: int = 0) -> list[User]:
    query = select(User).order_by(User.user_id).limit(limit).offset(offset)
    return list(session.scalars(query))


def update_user(
    session: Session, *, actor_id: int, user_id: int, data: UserPatch, now: datetime
) -> User:
    """Change another user's role or active flag; deactivating ends all their sessions at once."""
    user = get_user(session, user_id)
    if user.erased_at is not None:
        raise Conflict("this account was erased and cannot be changed", code="user_erased")
    locks_out_self = data.role == ROLE_VOLUNTEER or data.active is False
    if user_id == actor_id and locks_out_self:
        # The last admin demoting themselves would leave nobody to run the group.
        raise Conflict(
            "admins cannot demote or deactivate themselves; ask another admin",
            code="cannot_change_own_access",
        )
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    if data.active is False:
        revoke_all_sessions(session, user_id, now)
    session.flush()
    log.info("admin %s changed user %s: %s", actor_id, user_id, data.model_dump(exclude_unset=True))
    return user


def grant_admin(session: Session, phone: str, now: datetime) -> tuple[User, bool]:
    """Make the owner of `phone` (E.164) an admin, creating the account if it does not exist yet
    so a coordinator can be set up before their first login. Returns (user, created)."""
    user = user_by_phone(session, phone)
    created = user is None
    if user is None:
        user = _create_user(session, phone, None, now)
    user.role = ROLE_ADMIN
    session.flush()
    return user, created
