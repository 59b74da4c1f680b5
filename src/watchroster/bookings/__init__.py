"""bookings feature."""
