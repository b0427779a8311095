"""ArticleRecord: what every source parser produces and the store accepts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


@dataclass
class ArticleRecord:
    guid: str
    title: str
    published_at: datetime
    url: str = ""
    summary: str = ""
    body: str = ""
    section: str = ""
    author: str = ""
    language: str = ""
    image_url: str = ""
    updated_at: datetime | None = None
    date_estimated: bool = False
    source: str = ""
    priority: int = 0
    popularity: int | None = None

    def content_hash(self) -> str:
        """Changes when anything a reader would see changes; decides 'updated' vs 'unchanged'."""
        digest = hashlib.sha256()
        for part in (
            self.title, self.url, self.summary, self.body, self.section, self.author,
            self.language, self.image_url, str(self.priority), str(self.popularity),
        ):  # fmt: skip
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x1f")
        return digest.hexdigest()
