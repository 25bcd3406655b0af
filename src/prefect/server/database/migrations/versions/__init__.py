"""Alembic revisions of the server's database, oldest first (`0001_initial.py`, ...)."""
