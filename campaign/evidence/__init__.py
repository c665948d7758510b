"""Evidence files: stored once by content hash outside the database, checked by content, served by scope."""
