"""The orchestration server: `prefect server start` (one process, SQLite or PostgreSQL).

Importing `prefect` never imports this package; it pulls in SQLAlchemy, Starlette and graphql-core.
"""
