"""Ingest: messy, hostile sources become clean ArticleRecords, then rows in the store."""

from digest.ingest.records import ArticleRecord
from digest.ingest.store import IngestCounts, store_records

__all__ = ["ArticleRecord", "IngestCounts", "store_records"]
