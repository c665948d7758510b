"""Campaigns: playbooks, campaigns, their tasks, launching into assignments."""
