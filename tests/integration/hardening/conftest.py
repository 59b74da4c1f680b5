"""The bookings tests' roster and members, shared here rather than defined again."""

from tests.integration.bookings.conftest import roster, sipho, thandi

__all__ = ["roster", "sipho", "thandi"]
