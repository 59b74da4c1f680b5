"""Asking for volunteers on a gap: one call per slot, capped per volunteer per day."""
