"""The list identity that scopes unsubscribe tokens: stored once, never derived again.

Tokens are signed with the list id in their salt (`subscribers.tokens`). Deriving it from
`mail.from` at each send would break every link already in readers' inboxes the day the
From address changes, so the first use stores it (`site_identity` table: the first
send, sign-up, preview or web request, whichever comes first) and every later one reads
it back. An explicit `site.list_id` is stored the same way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest.delivery.options import MailIdentity
from digest.models import SiteIdentity

LIST_ID = "list_id"


def stored_list_id(session: Session, identity: MailIdentity, now: datetime) -> str:
    """The list id: stored, else `site.list_id` or today's derived value, stored now.

    An explicit `site.list_id` that differs from the stored one wins and replaces it (the
    operator chose it; links signed with the old one stop working, as they were told).
    """
    row = session.get(SiteIdentity, LIST_ID)
    if row is not None and (not identity.list_id or row.value == identity.list_id):
        return row.value
    value = identity.list_id or identity.default_list_id
    if row is not None:
        row.value = value
        return value
    try:
        with session.begin_nested():
            session.add(SiteIdentity(key=LIST_ID, value=value, created_at=now))
    except IntegrityError:  # another process stored it first: theirs holds
        stored = session.get(SiteIdentity, LIST_ID)
        assert stored is not None
        return stored.value
    return value


def read_list_id(session: Session, identity: MailIdentity) -> str:
    """The list id without storing anything (previews and dry runs, which must change
    nothing): the stored one, else what the first use would store."""
    row = session.get(SiteIdentity, LIST_ID)
    if row is not None and (not identity.list_id or row.value == identity.list_id):
        return row.value
    return identity.list_id or identity.default_list_id
