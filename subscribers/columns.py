"""Which column of an import file holds which field, as the tools people leave name them.

Header names are matched without regard to case, spacing, `-` or `_`:
- ours and listmonk's: email, name, language, sections, timezone, status
  (listmonk's status: enabled, disabled, blocklisted);
- Mailchimp's: "Email Address", "First Name", "Last Name", TIMEZONE, and the status
  in "Status" or "Email Marketing" (subscribed, unsubscribed, non-subscribed, cleaned,
  pending, transactional, archived); its unsubscribed and cleaned exports carry
  UNSUB_TIME / CLEAN_TIME, and every row of such a file is imported as unsubscribed,
  never active;
- Substack's: email, name, email_disabled (true: unsubscribed);
- Ghost's: email, name, subscribed_to_emails (false: unsubscribed).
`mapping` (`--map COLUMN=field`) names the rest, or `COLUMN=-` to ignore one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from subscribers.errors import SubscriberError

#: The fields a column can feed, and the header names that mean each (normalised).
ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "subscriberemail", "useremail"),
    "name": ("name", "fullname", "displayname", "subscribername"),
    "first_name": ("firstname", "fname", "givenname", "forename"),
    "last_name": ("lastname", "lname", "surname", "familyname"),
    "language": ("language", "lang", "locale", "preferredlanguage"),
    "sections": ("sections", "section", "topics"),
    "timezone": ("timezone", "tz"),
    "status": (
        "status",
        "memberstatus",
        "subscriptionstatus",
        "subscriberstatus",
        "contactstatus",
        "emailmarketing",
        "emailmarketingstatus",
    ),
    # Tool-specific columns that say a row is not subscribed.
    "unsub_time": ("unsubtime",),
    "clean_time": ("cleantime",),
    "email_disabled": ("emaildisabled",),
    "subscribed_to_emails": ("subscribedtoemails", "subscribed"),
}
FIELDS = tuple(ALIASES)
#: What `--map` may name (the tool-specific flags included), and "-" to ignore.
MAPPABLE = (*FIELDS, "-")

#: Status words of other tools, and ours. Anything that is not a plain "subscribed" is
#: never imported as active.
STATUS_WORDS = {
    "active": "active",
    "subscribed": "active",
    "enabled": "active",
    "confirmed": "active",
    "pending": "pending",
    "unconfirmed": "pending",
    "unsubscribed": "unsubscribed",
    "cleaned": "unsubscribed",
    "disabled": "unsubscribed",
    "blocklisted": "unsubscribed",
    "blacklisted": "unsubscribed",
    "archived": "unsubscribed",
    "transactional": "unsubscribed",
    "nonsubscribed": "unsubscribed",
    "bounced": "bounced",
    "complained": "complained",
}

TRUE_WORDS = frozenset({"true", "yes", "1", "y", "t"})
FALSE_WORDS = frozenset({"false", "no", "0", "n", "f"})


def normalise_header(cell: str) -> str:
    """`"Email Address"`, `email_address`, `EMAIL-ADDRESS` all become `emailaddress`."""
    return re.sub(r"[\s_\-.]+", "", cell.strip().lstrip("\ufeff").lower())


_BY_NAME = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class ColumnMap:
    """Positions of the fields in a file's rows, and the columns nobody reads."""

    positions: Mapping[str, int]
    ignored: tuple[str, ...] = ()
    #: Rows of this file are never active (a Mailchimp unsubscribed/cleaned export).
    all_unsubscribed: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> int | None:
        return self.positions.get(name)


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """`["E-Mail-Adresse=email", "Notes=-"]` -> {normalised column: field}.

    Raises SubscriberError naming the pair at fault."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, equals, target = pair.partition("=")
        target = target.strip().lower()
        if not equals or not column.strip():
            raise SubscriberError(f"column mapping {pair!r}: expected COLUMN=field")
        if target not in MAPPABLE:
            raise SubscriberError(
                f"column mapping {pair!r}: unknown field {target!r} (fields: {', '.join(MAPPABLE)})"
            )
        mapping[normalise_header(column)] = target
    return mapping


def map_columns(
    source: str, line: int, cells: list[str], mapping: Mapping[str, str] | None = None
) -> ColumnMap:
    """Read a header row. SubscriberError (naming file and line) if no column holds the
    address, if two columns feed one field, or if a mapped column is not there."""
    mapping = mapping or {}
    positions: dict[str, int] = {}
    sources: dict[str, str] = {}
    ignored: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        key = normalise_header(cell)
        if not key:
            continue
        seen.add(key)
        target = mapping.get(key) or _BY_NAME.get(key)
        if target == "-":
            continue  # ignored on purpose: no warning
        if target is None:
            ignored.append(cell.strip())
            continue
        if target in positions:
            raise SubscriberError(
                f"{source}: line {line}: columns {sources[target]!r} and {cell.strip()!r} "
                f"both give {target}; name the one to use with --map"
            )
        positions[target] = index
        sources[target] = cell.strip()
    for column in mapping:
        if column not in seen:
            raise SubscriberError(
                f"{source}: line {line}: column mapping names {column!r}, which the "
                "header row does not have"
            )
    if "email" not in positions:
        raise SubscriberError(
            f"{source}: line {line}: the header row has no 'email' column (found "
            f"{_shown(cells)}); the first line must name the columns: email,name,language,"
            "sections,timezone,status (only email is required), or use --map COLUMN=email"
        )
    return ColumnMap(
        positions,
        tuple(ignored),
        all_unsubscribed="unsub_time" in positions or "clean_time" in positions,
        sources=sources,
    )


def _shown(cells: list[str]) -> str:
    text = ",".join(cell.strip() for cell in cells)
    if "\0" in text:  # printed, the NULs would garble the terminal and hide the cause
        return (
            "text with NUL bytes: UTF-16 or UTF-32 without a byte-order mark? save it as "
            "CSV in UTF-8"
        )
    if not text.strip(","):
        return "nothing"
    return text if len(text) <= 120 else text[:119] + "…"


def status_word(value: str) -> str:
    """A status of ours for another tool's word; the word itself when unknown (the
    caller's check then names it)."""
    return STATUS_WORDS.get(normalise_header(value), value)


def not_subscribed(flag: str, *, when: bool) -> bool | None:
    """True if a yes/no cell says the row is not subscribed; None if it is no yes/no.

    `when` is the value that means "not subscribed" (email_disabled: true;
    subscribed_to_emails: false)."""
    word = flag.strip().lower()
    if word in TRUE_WORDS:
        return when
    if word in FALSE_WORDS:
        return not when
    return None
