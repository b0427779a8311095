"""The two database backends the suite runs on, and the check that keeps it that way.

Every test that opens a database runs once on SQLite and once on PostgreSQL (the
`backend` fixture in tests/conftest.py); a test that cannot says which backend it needs
and why (`@pytest.mark.sqlite_only("why")`, `@pytest.mark.postgres_only("why")`).
`BackendGuard` watches each test: one that opened a database on one backend only, without
such a marker, fails, naming the fixtures to use. It sees connections made in this process
(a pool check-out) and SQLite files a child process left in the test's folder.

PostgreSQL databases are cheap to make: `CREATE DATABASE ... TEMPLATE` copies a database
migrated once per session (or a test module's prepared site) instead of running the
migrations again.
"""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

#: Markers naming the one backend a test runs on, with the reason as their argument.
ONLY = {"sqlite_only": "sqlite", "postgres_only": "postgres"}
#: Fixtures that make a test run on both backends.
BOTH = "database_url, migrated_url, initialised or database_env (tests/conftest.py)"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class PostgresServer:
    """One PostgreSQL server (`base`, a URL naming its maintenance database) on which the
    tests make databases of their own; `close` drops those still there."""

    def __init__(self, base: str) -> None:
        import sqlalchemy as sa

        self.base = sa.engine.make_url(base)
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self.prefix = f"digest_test_{uuid.uuid4().hex[:8]}_"
        self.made: list[str] = []
        self._migrated: str | None = None

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str | None = None) -> str:
        """A new database (a copy of database URL `template` if given); its URL."""
        import sqlalchemy as sa

        name = f"{self.prefix}{len(self.made)}"
        self.made.append(name)
        sql = f'CREATE DATABASE "{name}"'
        if template is not None:
            source = sa.engine.make_url(template).database
            sql += f' TEMPLATE "{source}"'
            self._execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()",
                name=source,
            )
        self._execute(sql)
        return self.url(name)

    def migrated(self) -> str:
        """URL of a database at the schema head, made once (copy it, never use it)."""
        if self._migrated is None:
            from digest.db import Database

            url = self.create()
            db = Database(url)
            try:
                db.upgrade()
            finally:
                db.dispose()
            self._migrated = url
        return self._migrated

    def drop(self, url: str) -> None:
        import sqlalchemy as sa

        name = sa.engine.make_url(url).database
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_since(self, mark: int) -> None:
        """Drop the databases made after the first `mark` (but the migrated template)."""
        keep = self._migrated and self._migrated.rsplit("/", 1)[-1]
        for name in self.made[mark:]:
            if name != keep:
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in self.made:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()

    def _execute(self, sql: str, **params: Any) -> None:
        import sqlalchemy as sa

        with self.admin.connect() as connection:
            connection.execute(sa.text(sql), params)


class Databases:
    """Fresh, migrated and copied databases on either backend, for fixtures of any scope.

    SQLite databases are files in the folder given; PostgreSQL ones live on `server`
    (None when DIGEST_TEST_POSTGRES_URL is not set: asking for one then skips the test,
    or fails it under CI=true)."""

    def __init__(self, server: PostgresServer | None, sqlite_template: Path) -> None:
        self.server = server
        self.sqlite_template = sqlite_template

    def postgres(self) -> PostgresServer:
        if self.server is None:
            if in_ci():
                pytest.fail("DIGEST_TEST_POSTGRES_URL not set, and CI=true: PostgreSQL must run")
            pytest.skip("DIGEST_TEST_POSTGRES_URL not set (CI sets it)")
        return self.server

    def create(self, backend: str, folder: Path, *, migrated: bool = False) -> str:
        """A new database: `folder/digest.db` on SQLite, a new database on PostgreSQL;
        with the schema at head when `migrated`, else empty."""
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'digest.db'}"
            if migrated:
                self.clone(f"sqlite:///{self.sqlite_template}", folder)
            return url
        server = self.postgres()
        return server.create(template=server.migrated() if migrated else None)

    def clone(self, source: str, folder: Path) -> str:
        """A copy of database `source` (on SQLite into `folder/digest.db`, by the backup
        API so a file in WAL mode copies whole; on PostgreSQL with CREATE DATABASE ...
        TEMPLATE, which ends the source's other sessions first)."""
        if source.startswith("sqlite:///"):
            target = folder / "digest.db"
            with (
                closing(sqlite3.connect(source.removeprefix("sqlite:///"))) as original,
                closing(sqlite3.connect(target)) as copy,
            ):
                original.backup(copy)
            return f"sqlite:///{target}"
        return self.postgres().create(template=source)

    def drop(self, url: str) -> None:
        """Drop a PostgreSQL database made here (an SQLite file goes with its folder)."""
        if not url.startswith("sqlite") and self.server is not None:
            self.server.drop(url)


#: The session's `Databases` (set by the `databases` fixture), for helpers that copy a
#: prepared site: `current().clone(...)`.
_CURRENT: list[Databases] = []


def current() -> Databases:
    """The session's `Databases`; the `backend` fixture (any database fixture) sets it up."""
    assert _CURRENT, "ask for the `backend` fixture (or a database fixture) first"
    return _CURRENT[0]


def database_of(folder: Path) -> str:
    """The database URL in folder/digest.toml ([database] url; a relative SQLite path
    resolved against the folder). Read alone: the rest of the file may be broken on purpose."""
    import tomllib

    from digest.config import resolve_sqlite_url

    with open(folder / "digest.toml", "rb") as handle:
        url = tomllib.load(handle).get("database", {}).get("url", "sqlite:///digest.db")
    return resolve_sqlite_url(url, folder)


def use_database(folder: Path, url: str) -> None:
    """Point folder/digest.toml's [database] url at `url`."""
    config = folder / "digest.toml"
    text = config.read_text(encoding="utf-8")
    section = re.search(r"(?ms)^\[database\]\n.*?(?=^\[|\Z)", text)
    if section is None:
        config.write_text(f"{text.rstrip()}\n\n[database]\nurl = {_quoted(url)}\n", "utf-8")
        return
    body, found = re.subn(r"(?m)^url = .*$", f"url = {_quoted(url)}", section.group(0), count=1)
    if not found:
        body = section.group(0).replace("[database]\n", f"[database]\nurl = {_quoted(url)}\n", 1)
    config.write_text(text[: section.start()] + body + text[section.end() :], encoding="utf-8")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def in_ci() -> bool:
    """CI=true: a test skipped for a missing service fails (tests/conftest.py)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def backend_of(dbapi_connection: object) -> str:
    module = type(dbapi_connection).__module__
    return "sqlite" if module.startswith("sqlite3") else "postgres"


class BackendGuard:
    """Fails a test that opened a database on one backend only without saying why."""

    def __init__(self) -> None:
        self.opened: set[str] = set()
        self.paused = False

    def install(self) -> None:
        import sqlalchemy as sa

        sa.event.listen(sa.pool.Pool, "checkout", self._checkout)

    def _checkout(self, dbapi_connection: object, *_: object) -> None:
        if not self.paused:
            self.opened.add(backend_of(dbapi_connection))

    @staticmethod
    def check_markers(items: list[pytest.Item]) -> list[str]:
        """Problems with the markers of `items` (empty when fine)."""
        problems = []
        for item in items:
            markers = [m for m in item.iter_markers() if m.name in ONLY]
            reason = markers[0].args[0] if markers and markers[0].args else ""
            on_both = "backend" in getattr(item, "fixturenames", ())
            also = item.get_closest_marker("sqlite_also")
            if also is not None and not (also.args and str(also.args[0]).strip()):
                problems.append(f"{item.nodeid}: @sqlite_also needs a reason")
            elif markers and not str(reason).strip():
                problems.append(f"{item.nodeid}: @{markers[0].name} needs a reason")
            elif markers and on_both:
                problems.append(f"{item.nodeid}: @{markers[0].name}, yet runs on both backends")
            elif "postgres_url" in getattr(item, "fixturenames", ()) and not markers:
                problems.append(
                    f"{item.nodeid}: uses postgres_url (PostgreSQL only) without "
                    '@pytest.mark.postgres_only("why"); for both backends use ' + BOTH
                )
        return problems

    def violation(self, item: pytest.Item) -> str | None:
        """Why `item`, which just passed, breaks the rule (None when it keeps it)."""
        opened = set(self.opened)
        folder = getattr(item, "funcargs", {}).get("tmp_path")
        if isinstance(folder, Path) and _has_sqlite_file(folder):
            opened.add("sqlite")
        if not opened:
            return None
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("backend") == "postgres":
            if "sqlite" not in opened or item.get_closest_marker("sqlite_also"):
                return None
            return (
                "this test's postgres run used an SQLite database: the URL of the database "
                "fixture did not reach the code (a DIGEST_* variable dropped, env={} given to "
                "load_settings, or an sqlite:/// URL written out); if SQLite is meant as well, "
                'mark it @pytest.mark.sqlite_also("why")'
            )
        if "backend" in getattr(item, "fixturenames", ()):
            return None
        allowed = {ONLY[m.name] for m in item.iter_markers() if m.name in ONLY}
        single = sorted(opened - allowed)
        if not single:
            return None
        names = " and ".join(single)
        return (
            f"this test opened a database on {names} but does not run on both backends: "
            f'ask for {BOTH}, or mark it @pytest.mark.{single[0]}_only("why")'
        )


def _has_sqlite_file(folder: Path) -> bool:
    """Whether an SQLite database of ours (it has the `alembic_version` table) is in
    `folder`; other programs' (a Chromium profile's) do not count."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(SQLITE_SUFFIXES) and _is_ours(Path(root, name)):
                return True
    return False


def _is_ours(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            found = db.execute(
                "select 1 from sqlite_master where type = 'table' and name = 'alembic_version'"
            ).fetchone()
        return found is not None
    except (OSError, sqlite3.Error):
        return False
