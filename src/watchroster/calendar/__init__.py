"""Calendar feeds: a secret per-user iCalendar URL and the coordinators' feed."""
