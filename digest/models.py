"""The digest's tables, on the MetaData owned by `subscribers` so one database holds all."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from digest.delivery.classify import FailureKind as FailureKind
from subscribers.models import Base, Subscriber, UTCDateTime

__all__ = [
    "Article",
    "ArticleTerms",
    "Base",
    "BounceEvent",
    "Delivery",
    "DeliveryStatus",
    "Edition",
    "EditionItem",
    "EditionLock",
    "EditionRevision",
    "EditionStatus",
    "EditionVariant",
    "FailureKind",
    "Feed",
    "SchedulerState",
    "SiteIdentity",
    "Subscriber",
    "Word",
]


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        # A guid is only unique within its source (RSS 2.0 `guid`, Atom `id`): two feeds
        # may both say "1". Rows are keyed by (source, guid), matched by canonical URL.
        UniqueConstraint("source", "guid", name="uq_articles_source_guid"),
        Index("ix_articles_guid", "guid"),
        Index("ix_articles_canonical_url", "canonical_url"),
        # A headline's postings at any date (selection.postings; migration 0017).
        Index("ix_articles_title_key", text("substr(title, 1, 200)")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(2048))
    url: Mapped[str] = mapped_column(String(2048), default="")
    #: `url` without tracking parameters or fragment, host lower-cased, default port
    #: dropped (digest.ingest.urls): the article's identity across guids and sources,
    #: and what coverage counts as one report. "" when there is no usable URL.
    canonical_url: Mapped[str] = mapped_column(String(2048), default="")
    title: Mapped[str] = mapped_column(Text)
    #: Sanitised HTML.
    summary: Mapped[str] = mapped_column(Text, default="")
    #: Plain text.
    body: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str] = mapped_column(String(100), default="")
    author: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(16), index=True)
    image_url: Mapped[str] = mapped_column(String(2048), default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The date was not given by the source (feed/fetch time used) or was clamped.
    date_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The source gave no readable date and the item came in its source's first fetch:
    #: its real age is unknown (a feed's first fetch can hold years of backlog). Such an
    #: article must never lead an edition, and its recency must not outrank dated news.
    #: Set once, when the row is created.
    estimated_on_first_fetch: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(2048), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    popularity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set by `digest articles hold`: never selected again, pulled from unsent editions.
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    hold_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The id of the held article whose hold this copy follows (its page fetched again,
    #: or its text posted again under its headline; `digest.holds`): unholding that
    #: article releases this one. With no `held_at`: a copy released on its own, shown
    #: though that article stays held. None for any other article.
    held_copy_of: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)

    def __repr__(self) -> str:
        return f"<Article {self.guid!r}>"


class ArticleTerms(Base):
    """The term cache: an article's counted words (`digest.selection.text.WordCounts` of
    its matching text), written when it is ingested, so that a selection reads them
    instead of tokenising ten thousand articles on every edition. A row is valid only
    while its `content_hash` is the article's (a content change makes it stale) and its
    `version` is the code's (`digest.selection.terms.VERSION`); a selection reads any
    other row's text instead, with identical results."""

    __tablename__ = "article_terms"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))
    #: The distinct words, space-separated, in order of first appearance.
    words: Mapped[str] = mapped_column(Text)
    #: Each word's count: little-endian unsigned 16-bit integers, one per word.
    counts: Mapped[bytes] = mapped_column(LargeBinary)
    #: Each word's number in `words` (the `Word` table): little-endian unsigned 32-bit
    #: integers, one per word, in the order of `words`. NULL in a row written before
    #: the numbers were (its `version` is then an older one, and the row not read).
    word_ids: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Word(Base):
    """One number per distinct word the term cache has ever stored, given when ingest
    first stores it and never changed: a selection numbers the half-million words of
    its window by reading these numbers as an array (`batch_vectors`), where hashing
    each word as a Python string was a tenth of its time. A word is found by a digest
    of it (`selection.cache.word_key`), not by itself: one short key of one width in
    any script, and for a feed's longest "word" (the 320 characters of an opening that
    is one, whose UTF-8 can be three times longer). Selection never reads this table;
    ingest reads and extends it."""

    __tablename__ = "words"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: `selection.cache.word_key` of the word: 32 hexadecimal digits (BLAKE2b, 128 bits).
    key: Mapped[str] = mapped_column(String(32), unique=True)


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    section: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    etag: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class EditionStatus(StrEnum):
    DRAFT = "draft"
    FROZEN = "frozen"
    SENDING = "sending"
    SENT = "sent"


class Edition(Base):
    __tablename__ = "editions"
    __table_args__ = (UniqueConstraint("date", "language", "variant", name="uq_editions_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16))
    variant: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default=EditionStatus.DRAFT)
    subject: Mapped[str] = mapped_column(Text, default="")
    preheader: Mapped[str] = mapped_column(Text, default="")
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Inlined HTML / plain text with personalisation placeholders, fixed at freeze.
    html_template: Mapped[str] = mapped_column(Text, default="")
    text_template: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: JSON [[top article id, [related ids]], ...]: the wider ranked selection that
    #: personal variants draw their sections' stories from, frozen with the edition.
    pool: Mapped[str] = mapped_column(Text, default="")
    #: When it was due (`schedule.at` in `schedule.timezone` on `date`); its window ends
    #: at this moment or at `frozen_at`, whichever came first.
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: 1 when frozen; each hold that pulls an article makes the next revision.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: When the edition's last send run ended, and why it ended early if that was a
    #: failure of the whole run (a relay-wide refusal, the relay unreachable); None
    #: when that run was not stopped by one. `digest status` reports it as failed.
    last_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_send_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    items: Mapped[list[EditionItem]] = relationship(
        back_populates="edition",
        order_by="EditionItem.position",
        cascade="all, delete-orphan",
        foreign_keys="EditionItem.edition_id",
    )

    @property
    def key(self) -> str:
        suffix = f"/{self.variant}" if self.variant else ""
        return f"{self.date.isoformat()}/{self.language}{suffix}"


class EditionVariant(Base):
    """One reader group's rendering of an edition: (sections, time zone), frozen.

    The edition row itself holds the general variant (no sections, the site's zone);
    a reader whose group has a row here gets that rendering instead.
    """

    __tablename__ = "edition_variants"
    __table_args__ = (UniqueConstraint("edition_id", "key", name="uq_edition_variants_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    #: "sport,weather|Europe/London": the group's sections (casefolded, sorted) and zone.
    key: Mapped[str] = mapped_column(Text)
    sections: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text, default="")
    preheader: Mapped[str] = mapped_column(Text, default="")
    html_template: Mapped[str] = mapped_column(Text, default="")
    text_template: Mapped[str] = mapped_column(Text, default="")
    #: JSON [[top article id, [related ids]], ...] as shown to this group.
    stories: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EditionItem(Base):
    __tablename__ = "edition_items"
    __table_args__ = (
        UniqueConstraint("edition_id", "article_id", name="uq_edition_items_article"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    position: Mapped[int] = mapped_column(Integer)
    #: "top" or "related".
    role: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("edition_items.id", ondelete="CASCADE"), nullable=True
    )
    score: Mapped[float] = mapped_column(Float, default=0.0)

    edition: Mapped[Edition] = relationship(back_populates="items", foreign_keys=[edition_id])
    article: Mapped[Article] = relationship()


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: The message was handed over (final "." sent) but no reply came: perhaps delivered.
    #: Never resent automatically (`digest send --resend-uncertain` does it on request).
    UNCERTAIN = "uncertain"


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_recipient"),
        # Claims take the lowest ids of one status: in index order, no sort (0009).
        Index("ix_deliveries_claim", "edition_id", "status", "id"),
        # Deleting a subscriber cascades here (0009).
        Index("ix_deliveries_subscriber_id", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Not claimed before this moment (local-time delivery); None: due at once.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The edition revision the message was built from (set when it is claimed).
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: `FailureKind` of the last failed try (None when it never failed).
    failure_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)


class EditionRevision(Base):
    """One change to a frozen edition: which article a hold pulled, and why."""

    __tablename__ = "edition_revisions"
    __table_args__ = (
        UniqueConstraint("edition_id", "revision", name="uq_edition_revisions_revision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    article_guid: Mapped[str] = mapped_column(String(2048))
    article_title: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class EditionLock(Base):
    """One row per edition line (language, variant): the row a freeze locks on PostgreSQL."""

    __tablename__ = "edition_locks"

    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    variant: Mapped[str] = mapped_column(String(64), primary_key=True, default="")


class SchedulerState(Base):
    """What `digest schedule` last said about itself, so `digest status` can tell it died."""

    __tablename__ = "scheduler_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The send time it runs with (`--at`/`--tz` override the settings'): what `digest
    #: status` judges editions by.
    schedule_at: Mapped[str | None] = mapped_column(String(5), nullable=True)
    schedule_timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SiteIdentity(Base):
    """Values that must never drift once used (e.g. the token scope `list_id`): stored
    the first time they are needed, read back ever after."""

    __tablename__ = "site_identity"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BounceEvent(Base):
    """One thing learnt after the send: a bounce, complaint or unsubscribe request.

    Each comes from one inbound message or webhook event, whose `digest` (the SHA-256 of
    the raw message, or "<origin>:<event id>") is unique: a second pass over the same
    input is a no-op. `failure_kind` follows the synchronous classifier: address | refused
    | transient; only `counted` events moved the subscriber's bounce count.
    """

    __tablename__ = "bounce_events"
    __table_args__ = (Index("ix_bounce_events_delivery", "delivery_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(200), unique=True)
    #: maildir | mbox | imap | ses | postmark
    origin: Mapped[str] = mapped_column(String(16))
    #: The Message-ID of the inbound report itself (or the service's event id).
    inbound_message_id: Mapped[str | None] = mapped_column(String(998), nullable=True)
    #: hard | soft | complaint | unsubscribe
    kind: Mapped[str] = mapped_column(String(16))
    failure_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), nullable=True
    )
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True
    )
    #: The failed recipient as the report names it (may differ from the subscriber's).
    recipient: Mapped[str] = mapped_column(String(320), default="")
    #: RFC 3463 enhanced status code, e.g. "5.1.1"; empty when the report gives none.
    status: Mapped[str] = mapped_column(String(16), default="")
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    #: How it was matched: verp | message-id | list-id | address | sender.
    matched_by: Mapped[str] = mapped_column(String(16), default="")
    counted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


#: Bounce reports name the delivery by our Message-ID when VERP is off.
Index("ix_deliveries_message_id", Delivery.message_id)
#: A soft bounce looks at the subscriber's latest deliveries (bounces.record).
Index("ix_deliveries_subscriber", Delivery.subscriber_id, Delivery.id)
