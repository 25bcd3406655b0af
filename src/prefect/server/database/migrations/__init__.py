"""Alembic migrations of the server's database (run through `prefect.server.database.migrate`).

`env.py` is Alembic's environment script, `versions/` holds one module per revision. Every schema
change to `prefect.server.database.models` needs a new revision here, and `migrate.HEAD_REVISION`
set to it; tests compare the migrated database with the models on SQLite and PostgreSQL. To draft
one, bring a scratch PostgreSQL database to the current head, then let Alembic compare::

    from alembic import command
    from prefect.server.database.migrate import alembic_config, upgrade

    url = "postgresql://postgres@127.0.0.1:5432/scratch"
    asyncio.run(upgrade(url))
    command.revision(alembic_config(url), message="what changed", autogenerate=True, rev_id="0002")

and write the result out by hand in the style of `0001_initial.py` (explicit names and types, no
imports from `models`).
"""
