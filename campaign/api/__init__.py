"""The JSON API under /api/v1/, authenticated by personal tokens."""
