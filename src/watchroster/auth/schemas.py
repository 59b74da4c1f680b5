"""Request and response shapes of login, the caller's own account and user administration.

Request models list their writable fields and forbid any other (no mass assignment of `role`,
`active` or `user_id` through /me).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema

from watchroster.auth.models import User
from watchroster.core.fields import Instant, Line, Name
from watchroster.core.i18n import Language, supported
from watchroster.core.phones import masked_phone
from watchroster.core.timefmt import to_rfc3339

PhoneText = Annotated[
    Line,
    Field(
        max_length=32, description="Mobile number; national format is read in the default region."
    ),
]
Channel = Literal["sms", "whatsapp"]
Role = Literal["volunteer", "admin"]


def _refuse_nulls(model: BaseModel, fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in model.model_fields_set and getattr(model, field) is None:
            raise ValueError(f"{field} cannot be null")


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "071 123 4567", "name": "Thandi"}]},
    )

    phone: PhoneText
    name: Name | None = Field(default=None, description="Used when the account is created.")


class VerifyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "071 123 4567", "code": "123456"}]},
    )

    phone: PhoneText
    # Any short text: a malformed code is simply a wrong code (one generic 401).
    code: Line = Field(max_length=16, description="The 6-digit code from the message.")


class MessageOut(BaseModel):
    message: str


class _AccountOut(BaseModel):
    """What a coordinator and the member alike see of an account, less the number."""

    user_id: int
    name: str | None
    role: str
    active: bool
    channel: str
    reminders: bool
    volunteer_calls: bool = Field(
        default=True, description="Whether coordinators' calls for volunteers may reach them."
    )
    # Left out while unset, so the shape older clients know is unchanged.
    language: Language | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The chosen language; absent: pages follow the browser.",
    )
    created_at: Instant = Field(description="RFC 3339, UTC.")

    @staticmethod
    def fields_of(user: User) -> dict[str, Any]:
        return {
            "user_id": user.user_id,
            "name": user.name,
            "role": user.role,
            "active": user.active,
            "channel": user.channel,
            "reminders": user.reminders,
            "volunteer_calls": user.volunteer_calls,
            "language": supported(user.language),
            "created_at": to_rfc3339(user.created_at),
        }


class UserOut(_AccountOut):
    """The caller's own account (`GET /me`, login): the full number."""

    phone: str | None
    # Only in `GET /me` (filled in by the calendar feature, a layer above: `auth.router`).
    calendar_url: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="GET /me only: the secret URL of your calendar feed (iCalendar); "
        "POST /me/calendar-link replaces it.",
        json_schema_extra={"format": "uri"},
    )

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(phone=user.phone, **cls.fields_of(user))


class MemberOut(_AccountOut):
    """A member as `GET /users` and `PATCH /users/{id}` show them to a coordinator: the number
    masked, as `GET /people` and the console show it; the full number only through the logged
    `POST /users/{id}/phone`."""

    phone_masked: str = Field(
        description="E.g. `+27 82 *** **67` (`-`: erased); the full number: POST …/phone."
    )

    @classmethod
    def of(cls, user: User) -> MemberOut:
        return cls(phone_masked=masked_phone(user.phone), **cls.fields_of(user))


class LoginOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_at: Instant = Field(description="RFC 3339, UTC.")
    user: UserOut

    @classmethod
    def of(cls, token: str, expires_at: datetime, user: User) -> LoginOut:
        return cls(token=token, expires_at=to_rfc3339(expires_at), user=UserOut.of(user))


class MePatch(BaseModel):
    """Only the fields given change; `name: null` clears the name."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reminders": False, "language": "af"}]}
    )

    name: Name | None = None
    # Optional but never null (400): SkipJsonSchema keeps `null` out of the documented schema.
    channel: Channel | SkipJsonSchema[None] = None
    # Strict: the schema says boolean, so 0, 1 or "yes" is a 400, not a guess.
    reminders: StrictBool | SkipJsonSchema[None] = None
    # Calls for volunteers on a roster gap (`calls`); false opts out of them.
    volunteer_calls: StrictBool | SkipJsonSchema[None] = None
    # null: pages follow the browser's language, messages WATCHROSTER_DEFAULT_LANGUAGE.
    language: Language | None = None

    @model_validator(mode="after")
    def _no_null_settings(self) -> Self:
        _refuse_nulls(self, ("channel", "reminders", "volunteer_calls"))
        return self


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "admin"}]})

    role: Role | SkipJsonSchema[None] = None
    active: StrictBool | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        _refuse_nulls(self, ("role", "active"))
        return self
