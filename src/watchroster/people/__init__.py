"""People: volunteers and coordinators as the console shows them, role and activity changes."""
