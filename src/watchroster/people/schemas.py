"""Response shapes of the people list, a revealed number, and the message backlog."""

from __future__ import annotations

from pydantic import BaseModel, Field

from watchroster.core.fields import Instant
from watchroster.core.timefmt import to_rfc3339
from watchroster.people.service import Person


class PersonOut(BaseModel):
    user_id: int
    name: str | None
    phone_masked: str = Field(description="E.g. `+27 82 *** **67`; the full number: POST …/phone.")
    role: str
    active: bool
    erased: bool
    last_login_at: Instant | None = Field(description="RFC 3339, UTC: the newest login.")
    no_shows: int = Field(description="Past bookings recorded as not attended.")
    unrecorded: int = Field(description="Past bookings with no attendance recorded.")
    volunteer_calls: bool = Field(description="Whether calls for volunteers may reach them.")

    @classmethod
    def of(cls, person: Person) -> PersonOut:
        last = person.last_login
        return cls(
            user_id=person.user_id,
            name=person.name,
            phone_masked=person.masked_phone,
            role=person.role,
            active=person.active,
            erased=person.erased,
            last_login_at=to_rfc3339(last) if last is not None else None,
            no_shows=person.no_shows,
            unrecorded=person.unrecorded,
            volunteer_calls=person.volunteer_calls,
        )


class PhoneOut(BaseModel):
    user_id: int
    phone: str = Field(description="E.164.")


class OutboxStatsOut(BaseModel):
    counts: dict[str, int] = Field(description="Messages per status: pending, sent, failed …")
    oldest_pending_age_seconds: float | None = Field(
        description="Age of the oldest pending message; null when none is pending."
    )


class RetriedOut(BaseModel):
    retried: int = Field(description="Failed or expired messages put back in line.")
