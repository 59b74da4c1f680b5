"""Recurring patrol shifts: schedules, their recurrence rules and open slots."""
