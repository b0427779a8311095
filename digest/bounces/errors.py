"""Errors of bounce processing: each names the source, field or header at fault."""

from __future__ import annotations

from digest.errors import DigestError


class BounceError(DigestError):
    """A bounce source cannot be read (missing folder, bad URL, login refused)."""


class MailboxUnavailable(BounceError, ConnectionError):
    """The IMAP server cannot be reached or refused us; nothing was changed."""
