"""Accounts: logging in and out, passwords, and the management of users and their roles."""
