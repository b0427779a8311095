"""newsletter-digest: a daily email digest for a news publication."""

__version__ = "0.1.0"
