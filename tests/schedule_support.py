"""Helpers for the window, scheduler and status tests: a site on a real database with a
chosen schedule, articles at chosen moments, and a clock that tests move by hand."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from digest import pipeline
from digest.config import Settings, load_settings
from digest.db import Database
from digest.ingest.urls import canonical_url
from digest.models import Article, Edition, EditionItem
from subscribers.models import Subscriber

SECRET = "test-secret-key-for-schedule-tests"


def t(text: str) -> datetime:
    """An aware UTC datetime from `2025-11-01T11:30`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def config_text(
    timezone: str, at: str, transport: str, database: str | None, **schedule: Any
) -> str:
    lines = ["[schedule]", f'at = "{at}"', f'timezone = "{timezone}"']
    for key, value in schedule.items():
        rendered = str(value).lower() if isinstance(value, bool) else f'"{value}"'
        lines.append(f"{key} = {rendered}")
    if database:  # before [mail], which tests extend by appending lines
        lines += ["[database]", f'url = "{database}"']
    lines += ["[mail]", f'transport = "{transport}"', "retry_backoff = 0.01"]
    lines += ["retry_backoff_max = 0.05", "max_attempts = 2"]
    return "\n".join(lines) + "\n"


def make_site(
    folder: Path,
    *,
    timezone: str = "America/New_York",
    at: str = "07:00",
    transport: str = "maildir:./outbox",
    database: str | None = None,
    **schedule: Any,
) -> tuple[Settings, Database]:
    """digest.toml with this schedule, the database created, opened. The database is
    `database`, else the one DIGEST_DATABASE_URL names (the `database_env` fixture), else
    the folder's SQLite file."""
    database = database or os.environ.get("DIGEST_DATABASE_URL")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "digest.toml"
    config.write_text(config_text(timezone, at, transport, database, **schedule), "utf-8")
    (folder / "secret.key").write_text(SECRET + "\n", encoding="utf-8")
    pipeline.initialise(config)
    settings = load_settings(config, env={})
    return settings, pipeline.open_database(settings)


def title_for(guid: str) -> str:
    """A headline that shares no word with another guid's (no two look like one story)."""
    letters = (
        hashlib.sha256(guid.encode())
        .hexdigest()
        .translate(str.maketrans("0123456789", "ghijklmnop"))
    )
    return " ".join(letters[i : i + 7] for i in range(0, 42, 7)).capitalize()


def add_article(
    db: Database, guid: str, published_at: datetime, language: str = "en", **fields: Any
) -> None:
    url = fields.pop("url", f"https://news.example/{guid}")
    with db.session() as session:
        session.add(
            Article(
                guid=guid,
                url=url,
                canonical_url=fields.pop("canonical_url", canonical_url(url)),
                title=fields.pop("title", title_for(guid)),
                summary=fields.pop("summary", ""),
                body=fields.pop("body", ""),
                language=language,
                published_at=published_at,
                content_hash=hashlib.sha256(guid.encode()).hexdigest(),
                ingested_at=published_at,
                **fields,
            )
        )


def add_reader(db: Database, email: str, *, language: str = "en", timezone: str = "UTC") -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with db.session() as session:
        session.add(
            Subscriber(
                email=email, name="", language=language, sections="", timezone=timezone,
                status="active", smtputf8=False, bounce_count=0, created_at=now, updated_at=now,
            )
        )  # fmt: skip


def editions(db: Database) -> list[Edition]:
    with db.session() as session:
        return list(session.scalars(select(Edition).order_by(Edition.language, Edition.date)))


def tops(db: Database, key: str) -> list[str]:
    """Guids of the top stories of edition `key` (`2025-11-02/en`)."""
    day, language = key.split("/")
    with db.session() as session:
        rows = session.scalars(
            select(Article.guid)
            .join(EditionItem, EditionItem.article_id == Article.id)
            .join(Edition, Edition.id == EditionItem.edition_id)
            .where(
                Edition.date == date.fromisoformat(day),
                Edition.language == language,
                EditionItem.role == "top",
            )
        )
        return sorted(rows)


@dataclass
class FakeClock:
    """A clock the test moves: `sleep` advances it at once (never a real wait), and says
    whether the loop was asked to stop meanwhile."""

    now: datetime
    #: The loop is asked to stop once the clock reaches this.
    until: datetime | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    slept: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> bool:
        with self.lock:
            self.slept.append(seconds)
            self.now += timedelta(seconds=max(seconds, 0.0))
            if self.until is not None and self.now >= self.until:
                self.stop.set()
        return self.stop.is_set()


@contextmanager
def opened(settings: Settings) -> Iterator[Database]:
    db = pipeline.open_database(settings)
    try:
        yield db
    finally:
        db.dispose()


def run_cli(folder: Path, *args: str) -> Any:
    """`digest --config folder/digest.toml ARGS` in-process."""
    from tests.test_send_support import run_digest

    return run_digest(folder, *args)
