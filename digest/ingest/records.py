"""ArticleRecord: what every source parser produces and the store accepts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

#: Column sizes of the articles table (digest.models.Article).
URL_MAX = 2048
SECTION_MAX = 100
AUTHOR_MAX = 300


@dataclass(frozen=True)
class SourceDefaults:
    """What the command line or a feed registration says about a source's items.

    `section` replaces the items' own categories; `language` applies to items whose
    entry and feed state none; `languages` are the site's, the only ones stored.
    """

    section: str | None = None
    language: str | None = None
    languages: tuple[str, ...] = ("en",)


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
    #: The source gave no usable date (none, or one we could not read): its age is unknown.
    date_undated: bool = False
    #: The text is clearly in another site language than the item or feed declared.
    language_retagged: bool = False
    source: str = ""
    priority: int = 0
    popularity: int | None = None
    #: The item has no guid of its own: `guid` is its link (`store.upsert` decides
    #: whether the link can key it).
    guid_is_url: bool = False

    def __post_init__(self) -> None:
        # Fit the columns without corrupting anything: a cut URL is a broken link (drop it),
        # a cut guid could merge two articles (hash it instead).
        if len(self.guid) > URL_MAX:
            self.guid = "sha256:" + hashlib.sha256(self.guid.encode("utf-8")).hexdigest()
        if len(self.url) > URL_MAX:
            self.url = ""
        if len(self.image_url) > URL_MAX:
            self.image_url = ""
        self.section = self.section[:SECTION_MAX].strip()
        self.author = self.author[:AUTHOR_MAX].strip()
        self.source = self.source[:URL_MAX]

    def content_hash(self, url: str = "") -> str:
        """Changes when anything a reader would see changes; decides 'updated' vs 'unchanged'.

        A date the source gave counts (a corrected time is a change); an estimated one
        (the fetch time) does not, or every run would 'update' undated articles. `url`
        is the canonical URL when known: tracking parameters that change on every fetch
        are not a change.
        """
        digest = hashlib.sha256()
        date = "" if self.date_estimated else self.published_at.isoformat()
        for part in (
            self.title, url or self.url, self.summary, self.body, self.section, self.author,
            self.language, self.image_url, str(self.priority), str(self.popularity), date,
        ):  # fmt: skip
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x1f")
        return digest.hexdigest()


@dataclass
class ParsedSource:
    """Everything one source yielded, before anything is stored."""

    records: list[ArticleRecord] = field(default_factory=list)
    #: The feed's or page's own title (names a registered feed that has no name yet).
    title: str = ""
    warnings: list[str] = field(default_factory=list)
    #: Items with nothing a reader could see (no title, no summary).
    skipped: int = 0
