"""Consistent backups of the database and the uploads, and restoring them into a fresh instance."""
