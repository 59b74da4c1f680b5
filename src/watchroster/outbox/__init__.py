"""outbox feature."""
