"""Attendance figures: per volunteer and per schedule, the weekly fill-rate chart, reminders."""
