"""The server's database: tables (`models`), connections (`engine`), migrations."""

from prefect.server.database.engine import Database
