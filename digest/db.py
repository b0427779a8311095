"""Engine, sessions and schema upgrades (Alembic migrations shipped inside the package).

SQLite gets WAL, foreign keys and a busy timeout so a reader never blocks the sender;
PostgreSQL needs nothing special here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from digest.errors import DatabaseError

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True)
    except (ArgumentError, ImportError) as e:
        raise DatabaseError(f"database url {redact_url(url)!r}: {e}") from e
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not Path(path).parent.exists():
            raise DatabaseError(f"database {path}: folder {Path(path).parent} does not exist")
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def redact_url(url: str) -> str:
    """Never print a database password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class Database:
    """One engine and its session factory; passed explicitly, never a global."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        return config

    def upgrade(self) -> None:
        """Create the database or bring it to the newest schema."""
        from alembic import command

        config = self._alembic_config()
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as e:
            raise DatabaseError(f"database {redact_url(self.url)}: {e.orig}") from e
        except SQLAlchemyError as e:
            raise DatabaseError(f"database {redact_url(self.url)}: {e}") from e

    def check_current(self) -> None:
        """Raise a clear error when the schema is missing or older than this release."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        try:
            with self.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
                has_tables = inspect(connection).has_table("articles")
        except OperationalError as e:
            raise DatabaseError(f"database {redact_url(self.url)}: {e.orig}") from e
        if current is None and not has_tables:
            raise DatabaseError(
                f"database {redact_url(self.url)} is not initialised",
                hint="run 'digest init' first",
            )
        if current != head:
            raise DatabaseError(
                f"database {redact_url(self.url)} has schema {current}, this release needs {head}",
                hint="run 'digest init' to upgrade it",
            )
