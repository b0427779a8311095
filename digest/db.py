"""Engine, sessions and schema upgrades (Alembic migrations shipped inside the package).

SQLite gets WAL, foreign keys and a busy timeout so a reader never blocks the sender.
A server database (PostgreSQL) gets the pool size of `[database]` and, when set, a
`statement_timeout` on every connection, so a runaway query is cancelled by the server.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from digest.errors import DatabaseError

if TYPE_CHECKING:
    from digest.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 10, statement_timeout: int = 0
) -> Engine:
    """An engine for `url`. Pool sizes and `statement_timeout` (milliseconds, 0: none)
    apply to server databases; SQLite opens its file per use. Raises DatabaseError for a
    malformed URL or a missing driver."""
    options: dict[str, Any] = {}
    if not url.startswith("sqlite"):
        options = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_pre_ping": True}
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError, TypeError) as e:
        raise DatabaseError(f"database url {redact_url(url)!r}: {e}") from e
    if engine.dialect.name == "postgresql" and statement_timeout:
        event.listen(engine, "connect", _statement_timeout(statement_timeout))
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:" and not Path(path).parent.exists():
            raise DatabaseError(f"database {path}: folder {Path(path).parent} does not exist")
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _statement_timeout(milliseconds: int) -> Any:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        # SET cannot take a bind parameter; the value is a validated whole number.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(milliseconds)}")
        dbapi_connection.commit()

    return apply


def open_database(settings: Settings, *, check: bool = True) -> Database:
    """The database of `settings`, with its pool settings; `check` raises DatabaseError
    unless the schema is at this release's head."""
    database = settings.database
    db = Database(
        settings.database_url,
        pool_size=database.pool_size,
        max_overflow=database.max_overflow,
        statement_timeout=database.statement_timeout,
    )
    if check:
        db.check_current()
    return db


def database_error(error: Exception, where: str = "database error") -> DatabaseError:
    """A driver failure that reached the command (the server went away, a statement hit
    `database.statement_timeout`) as one line, without the SQL or its parameters."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    hint = None
    if "statement timeout" in reason:
        hint = "raise database.statement_timeout (milliseconds, 0: no limit) if it is expected"
    return DatabaseError(f"{where}: {reason}", hint=hint)


def redact_url(url: str) -> str:
    """Never print a database password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class Database:
    """One engine and its session factory; passed explicitly, never a global."""

    def __init__(self, url: str, **engine_options: int) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_options)
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
        except DBAPIError as e:
            raise database_error(e, f"database {redact_url(self.url)}") from e
        except SQLAlchemyError as e:
            raise DatabaseError(f"database {redact_url(self.url)}: {e}") from e

    def check_current(self) -> None:
        """Raise a clear error when the schema is missing or older than this release.

        Every command runs this, so it reads the head from the migration files and the
        version from `alembic_version` directly; Alembic itself (a tenth of a second to
        import) loads only when that quick reading is ambiguous.
        """
        head = schema_head()
        if self._missing_file():
            raise DatabaseError(
                f"database {redact_url(self.url)} is not initialised",
                hint="run 'digest init' first",
            )
        try:
            with self.engine.connect() as connection:
                inspector = inspect(connection)
                has_tables = inspector.has_table("articles")
                current: str | None = None
                if inspector.has_table("alembic_version"):
                    versions = connection.execute(
                        text("SELECT version_num FROM alembic_version")
                    ).scalars()
                    found = list(versions)
                    current = found[0] if len(found) == 1 else None
                if head is None or (current is None and has_tables):
                    head, current = self._alembic_versions(connection)
        except DBAPIError as e:  # unreachable, refused, or not a database at all
            raise database_error(e, f"database {redact_url(self.url)}") from e
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

    def _missing_file(self) -> bool:
        """An SQLite file that does not exist: connecting would create it, empty, and
        leave it behind in whatever folder a mistyped command ran in."""
        url = self.engine.url
        name = url.database or ""
        if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or "uri" in url.query:
            return False
        return not Path(name).exists()

    def _alembic_versions(self, connection: Any) -> tuple[str | None, str | None]:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        return head, MigrationContext.configure(connection).get_current_revision()


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def schema_head() -> str | None:
    """This release's newest schema revision, read from the migration files' `revision`
    and `down_revision` lines; None unless that reading finds exactly one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in (MIGRATIONS / "versions").glob("*.py"):
            found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
            revisions.add(revision)
            parents.update([down] if isinstance(down, str) else (down or ()))
    except (OSError, KeyError, ValueError, SyntaxError):
        return None
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
