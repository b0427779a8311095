"""Per-recipient placeholders: written into templates once, substituted per message.

Article text can never produce a placeholder: the render step breaks the marker in
every interpolated value, so only the template's own tokens survive to substitution.
"""

from __future__ import annotations

MARKER = "%%DIGEST_"
GREETING = "%%DIGEST_GREETING%%"
UNSUBSCRIBE_URL = "%%DIGEST_UNSUBSCRIBE_URL%%"
EMAIL = "%%DIGEST_EMAIL%%"
#: The subscriber's preferences page (`web.public_url` + /p/{token}).
PREFERENCES_URL = "%%DIGEST_PREFERENCES_URL%%"

ALL = (GREETING, UNSUBSCRIBE_URL, EMAIL, PREFERENCES_URL)


def defuse(text: str) -> str:
    """Make a value unable to look like a placeholder."""
    return text.replace(MARKER, "%%\u200bDIGEST_") if MARKER in text else text
