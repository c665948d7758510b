"""Append-only audit trail of every write."""
