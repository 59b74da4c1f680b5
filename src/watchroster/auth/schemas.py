"""Request and response shapes of login, the caller's own account and user administration.

Request models list their writable fields and forbid any other (no mass assignment of `role`,
`active` or `user_id` through /me).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from watchroster.auth.models import User
from watchroster.timefmt import to_rfc3339

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PhoneText = Annotated[
    str,
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
    model_config = ConfigDict(extra="forbid")

    phone: PhoneText
    name: Name | None = Field(default=None, description="Used when the account is created.")


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: PhoneText
    # Any short text: a malformed code is simply a wrong code (one generic 401).
    code: str = Field(max_length=16, description="The 6-digit code from the message.")


class MessageOut(BaseModel):
    message: str


class UserOut(BaseModel):
    user_id: int
    phone: str | None
    name: str | None
    role: str
    active: bool
    channel: str
    reminders: bool
    created_at: str = Field(description="RFC 3339, UTC.")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            user_id=user.user_id,
            phone=user.phone,
            name=user.name,
            role=user.role,
            active=user.active,
            channel=user.channel,
            reminders=user.reminders,
            created_at=to_rfc3339(user.created_at),
        )


class LoginOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme name, not a secret
    expires_at: str = Field(description="RFC 3339, UTC.")
    user: UserOut

    @classmethod
    def of(cls, token: str, expires_at: datetime, user: User) -> LoginOut:
        return cls(token=token, expires_at=to_rfc3339(expires_at), user=UserOut.of(user))


class MePatch(BaseModel):
    """Only the fields given change; `name: null` clears the name."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    channel: Channel | None = None
    reminders: bool | None = None

    @model_validator(mode="after")
    def _no_null_settings(self) -> Self:
        _refuse_nulls(self, ("channel", "reminders"))
        return self


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        _refuse_nulls(self, ("role", "active"))
        return self
