"""A small group for call tests: a coordinator, volunteers, and a schedule of evening shifts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select

from tests.support.factories import add_user
from watchroster.auth.models import User
from watchroster.calls import service
from watchroster.calls.models import VolunteerCall
from watchroster.core.config import Settings
from watchroster.core.rules import CallRules
from watchroster.db.engine import Database
from watchroster.outbox.models import OutboxMessage
from watchroster.outbox.service import open_payload

# The test clock: Thursday 2025-05-01 10:00 in Johannesburg. Friday 18:00 local is 16:00 UTC.
FRIDAY = datetime(2025, 5, 2, 16, 0, tzinfo=UTC)
SATURDAY = datetime(2025, 5, 3, 16, 0, tzinfo=UTC)
SUNDAY = datetime(2025, 5, 4, 16, 0, tzinfo=UTC)
ADMIN_PHONE = "+27821230000"


def add_member(db: Database, phone: str, name: str, **fields: object) -> User:
    """A user with any of the columns the tests vary (language, active, volunteer_calls …)."""
    user = add_user(db, phone, name)
    if fields:
        with db.write() as session:
            row = session.get_one(User, user.user_id)
            for key, value in fields.items():
                setattr(row, key, value)
    return user


@dataclass
class Group:
    db: Database
    settings: Settings
    admin: User

    def rules(self, per_day: int | None = None) -> CallRules:
        rules = CallRules.of(self.settings)
        return rules if per_day is None else replace(rules, per_day=per_day)

    def ask(
        self, schedule_id: int, start: datetime, now: datetime, per_day: int | None = None
    ) -> VolunteerCall:
        with self.db.write() as session:
            return service.ask_for_volunteers(
                session,
                self.rules(per_day),
                schedule_id=schedule_id,
                start=start,
                actor_id=self.admin.user_id,
                now=now,
            )

    def calls_to(self, phone: str) -> list[str]:
        """The bodies of the calls queued for `phone`, oldest first."""
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.message_type == "volunteer_call")
            .where(OutboxMessage.recipient == phone)
            .order_by(OutboxMessage.outbox_id)
        )
        secret = self.settings.secret_key.get_secret_value()
        with self.db.read() as session:
            return [open_payload(row.payload, secret)[0] for row in session.scalars(query)]

    def all_calls(self) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.message_type == "volunteer_call")
        with self.db.read() as session:
            return list(session.scalars(query))


def group(db: Database, settings: Settings) -> Group:
    return Group(db, settings, add_user(db, ADMIN_PHONE, "Anna Admin", role="admin"))
