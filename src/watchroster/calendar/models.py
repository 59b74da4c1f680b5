"""The secret calendar link of a user: one row per user, replaced when the link is reset."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from watchroster.db.engine import Base, UTCDateTime


class CalendarToken(Base):
    """A user's calendar link.

    `seed` is 192 random bits; the token in the URL is a keyed hash of it (`calendar.service`),
    so the database alone (a leaked backup) yields no working link, yet `GET /me` can show the
    link again. Requests are looked up by `token_hash`, the keyed hash of the token presented,
    never by comparing the token itself.
    """

    __tablename__ = "calendar_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
