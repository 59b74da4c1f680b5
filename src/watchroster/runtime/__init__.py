"""Processes and what they share: the application context, the prefork supervisor, draining,
start-up checks. Imports `db` and `core`."""
