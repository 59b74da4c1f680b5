"""Users, their login codes, sessions, and the events the abuse limits count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.engine import Base, UTCDateTime, utcnow

ROLE_VOLUNTEER = "volunteer"
ROLE_ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL once the account is erased; the row stays so past attendance still counts.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16), default=ROLE_VOLUNTEER)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whether coordinators' calls for volunteers on a gap may reach this person (`calls`).
    volunteer_calls: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # "en", "af" or "zu"; NULL follows the browser (pages) or WATCHROSTER_DEFAULT_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN


class LoginCode(Base):
    """The one live login code of a phone number (a new code replaces the row's contents)."""

    __tablename__ = "login_codes"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    # The name given at register, used when the account is created on first verification.
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthSession(Base):
    __tablename__ = "auth_sessions"

    session_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthEvent(Base):
    """One row per code sent or code checked, so rate limits hold across app instances."""

    __tablename__ = "auth_events"
    __table_args__ = (
        Index("ix_auth_events_kind_phone_at", "kind", "phone", "created_at"),
        Index("ix_auth_events_kind_ip_at", "kind", "client_ip", "created_at"),
    )

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "code_sent" | "verify"
    phone: Mapped[str | None] = mapped_column(String(20))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
