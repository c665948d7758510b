"""Reporting: units report their tasks with evidence, townships review, deadlines lock."""
