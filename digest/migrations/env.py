"""Alembic environment: runs on the connection `digest.db.Database.upgrade` hands over."""

from __future__ import annotations

from alembic import context

import digest.models  # noqa: F401  (registers the digest tables on the shared MetaData)
from subscribers.models import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` command line: build an engine from sqlalchemy.url
    from sqlalchemy import create_engine

    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
