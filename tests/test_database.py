"""The schema on both backends: one set of Alembic migrations, the indexes the big queries
need, and the `[database]` settings reaching the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from digest import outbox
from digest.db import Database, make_engine, schema_head
from digest.models import Edition
from digest.selection import postings, store
from subscribers.models import metadata

NOW = datetime(2025, 6, 4, 6, 0, tzinfo=UTC)
#: Indexes a migration makes on one backend only, on purpose (not in the models).
BACKEND_ONLY_INDEXES = {"ix_articles_selection_window"}  # 0015 (0005 before it): SQLite


def _unexpected(differences: list[object]) -> list[object]:
    return [
        d
        for d in differences
        if not (
            isinstance(d, tuple) and d[0] == "remove_index" and d[1].name in BACKEND_ONLY_INDEXES
        )
    ]


def _upgrade(db: Database, revision: str) -> None:
    config = db._alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# An index on an expression (0017's) is compared on PostgreSQL; SQLite's cannot be read back.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrading_from_the_first_schema_keeps_rows_and_matches_the_models(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        _upgrade(db, "0001")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO subscribers (email, name, language, sections, timezone, status,"
                    " smtputf8, bounce_count, created_at, updated_at) VALUES ('old@example.com',"
                    " '', 'en', '', 'UTC', 'active', false, 0, :now, :now)"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
        db.upgrade()
        db.check_current()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
            emails = connection.execute(sa.text("SELECT email FROM subscribers")).scalars()
            assert list(emails) == ["old@example.com"]
        assert _unexpected(differences) == []
    finally:
        db.dispose()


def test_the_quick_schema_head_is_alembics_head() -> None:
    db = Database("sqlite://")
    assert schema_head() == ScriptDirectory.from_config(db._alembic_config()).get_current_head()


@pytest.mark.postgres_only("SQLite has no connection pool sizes and no statement_timeout")
def test_pool_and_statement_timeout_reach_postgresql_connections(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=3, max_overflow=1, statement_timeout=200)
    try:
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        with engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar() == "200ms"
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                connection.execute(sa.text("SELECT pg_sleep(3)"))
    finally:
        engine.dispose()


def _plan(connection: sa.Connection, statement: sa.Executable, **params: object) -> str:
    compiled = statement.compile(dialect=connection.dialect)
    values = {**compiled.params, **params}
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled.string}", values)
    return "\n".join(row[0] for row in rows)


@pytest.mark.postgres_only("reads PostgreSQL's EXPLAIN; SQLite's plans are other tests'")
def test_the_big_queries_can_use_their_indexes(postgres_url: str) -> None:
    """EXPLAIN with sequential scans priced out: each query has an index it can use (on a
    million rows PostgreSQL picks them by itself; bench/scale_bench.py prints those plans)."""
    db = Database(postgres_url)
    try:
        db.upgrade()
        with db.session() as session:
            edition = Edition(
                date=date(2025, 6, 4), language="en", window_start=NOW, window_end=NOW,
                created_at=NOW,
            )  # fmt: skip
            session.add(edition)
            session.flush()
            connection = session.connection()
            connection.exec_driver_sql("SET enable_seqscan = off")
            plan = _plan(
                connection,
                sa.text(
                    "SELECT id FROM deliveries WHERE edition_id = :edition AND status = "
                    "'pending' ORDER BY id LIMIT 32 FOR UPDATE SKIP LOCKED"
                ),
                edition=edition.id,
            )
            assert "ix_deliveries_claim" in plan, plan
            audience = _plan(connection, outbox.audience_query(edition, NOW))
            assert "ix_subscribers_language_status" in audience, audience
            cascade = _plan(
                connection, sa.text("SELECT id FROM deliveries WHERE subscriber_id = 1")
            )
            assert "ix_deliveries_subscriber_id" in cascade, cascade
            options = connection.exec_driver_sql(
                "SELECT reloptions FROM pg_class WHERE relname = 'deliveries'"
            ).scalar()
            assert "autovacuum_analyze_scale_factor=0.005" in options
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        # `postings.postings` asks by each headline's key (its first 200 characters): the
        # expression must be the index's as written.
        (postings.postings_query(["Pop star marries", "x" * 200]), "ix_articles_title_key"),
        # Every selection asks for the copies released from a hold.
        (store.released_query(), "ix_articles_held_copy_of"),
    ],
)
def test_a_lookup_by_an_index_reads_it(database_url: str, statement: Any, index: str) -> None:
    """Or the database reads every article."""
    db = Database(database_url)
    try:
        db.upgrade()
        with db.session() as session:
            connection = session.connection()
            sql = statement.compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            ).string
            if connection.dialect.name == "sqlite":
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            else:
                connection.exec_driver_sql("SET enable_seqscan = off")
                rows = connection.exec_driver_sql(f"EXPLAIN {sql}")
            plan = "\n".join(str(row[-1]) for row in rows)
            assert index in plan, plan
    finally:
        db.dispose()


@pytest.mark.postgres_only("statement_timeout exists on PostgreSQL only")
def test_a_statement_over_the_timeout_is_one_clear_error(postgres_url: str) -> None:
    from tests.conftest import Digest

    pg = Digest({"DIGEST_DATABASE_URL": postgres_url})
    pg.ok("init")
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO subscribers (email, name, language, sections, timezone, status,"
                " smtputf8, bounce_count, created_at, updated_at) SELECT 'r' || n ||"
                " '@example.com', '', 'en', '', 'UTC', 'active', false, 0, now(), now()"
                " FROM generate_series(1, 300000) AS n"
            )
        )
    engine.dispose()
    config = Path("digest.toml")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("statement_timeout = 0", "statement_timeout = 1"), "utf-8")
    result = pg("subscribers", "list", "--format", "csv")
    assert result.exit_code == 1
    assert "statement timeout" in result.stderr and "database.statement_timeout" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
