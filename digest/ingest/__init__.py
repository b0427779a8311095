"""Ingest: messy, hostile sources become clean ArticleRecords, then rows in the store.

sources (files, folders, URLs, registered feeds) -> detect -> feeds | jsonitems | pages
-> clean ArticleRecords -> store (one transaction per source). Entry point:
`digest.ingest.sources.ingest_sources`; this package module stays light because other
stages import `digest.ingest.clean`.
"""

from digest.ingest.records import ArticleRecord, SourceDefaults
from digest.ingest.store import IngestCounts, store_records

__all__ = ["ArticleRecord", "IngestCounts", "SourceDefaults", "store_records"]
