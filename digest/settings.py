"""The settings' declaration: each section of digest.toml a frozen dataclass, each setting
a field whose metadata carries its help text and bounds.

`digest init` writes the commented file from this declaration (`config_file`) and
`config.load_settings` reads and checks values against it, so docs cannot drift from
the code that reads them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

#: Bounds of the settings that become dates: far beyond any use, far below an overflow.
HOURS_A_YEAR = 366 * 24
DAYS_TEN_YEARS = 3660
#: The token-signing key's file beside the config, when DIGEST_SECRET_KEY is not set.
SECRET_KEY_FILE = "secret.key"
#: The shortest token-signing key accepted, in bytes (after surrounding blanks are
#: stripped): an empty or tiny key makes every unsubscribe and preferences token forgeable.
MIN_SECRET_KEY_BYTES = 16
#: How a user makes a key (what `digest init` writes: 48 random bytes, base64url).
NEW_KEY_HINT = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"

#: Largest whole number and number any setting takes unless it sets its own `maximum`:
#: larger ones only overflow a date, a timer or a database column somewhere.
MAX_WHOLE = 2**31 - 1
MAX_NUMBER = 1e9


def setting(
    default: Any,
    help: str,
    *,
    key: str | None = None,
    localised: bool = False,
    maximum: float | None = None,
) -> Any:
    """A settings field: `key` is the TOML key when it differs from the field name;
    a `localised` text may be given as one string or as a table of languages; a
    number above `maximum` (default `MAX_WHOLE` or `MAX_NUMBER`) is refused."""
    metadata = {"help": help, "key": key, "localised": localised, "maximum": maximum}
    if isinstance(default, list | tuple):
        return field(default_factory=lambda: tuple(default), metadata=metadata)
    return field(default=default, metadata=metadata)


class Localised(str):
    """A text setting that may differ per language: `name = {en = "...", ar = "..."}`.

    It is a `str` (the first language's value, or the only one), so code that needs a
    single value keeps working; `for_language(code)` gives a language's own text, falling
    back to that first value.
    """

    values: Mapping[str, str]

    def __new__(cls, default: str, values: Mapping[str, str] | None = None) -> Localised:
        text = super().__new__(cls, default)
        text.values = dict(values or {})
        return text

    @classmethod
    def of(cls, table: Mapping[str, str]) -> Localised:
        """From a {language: text} table (the first entry is the fallback)."""
        return cls(next(iter(table.values()), ""), table)

    def for_language(self, language: str) -> str:
        return self.values.get(language, str(self))


def localised(value: str, language: str) -> str:
    """The text of a setting in `language` (a plain string is the same in every language)."""
    return value.for_language(language) if isinstance(value, Localised) else value


@dataclass(frozen=True)
class SiteSettings:
    name: str = setting(
        Localised.of({"en": "Arab Press", "ar": "عرب برس"}),
        "Publication name: masthead, From display name, List-Id. One string, or a table "
        'per language: {en = "Arab Press", ar = "عرب برس"}.',
        localised=True,
    )
    url: str = setting("https://arabpress.example", "Public address of the site (footer link).")
    tagline: str = setting(
        Localised.of({"en": "By the people, for the people", "ar": "بالشعب و للشعب"}),
        "Short line under the masthead; one string or a table per language.",
        localised=True,
    )
    languages: tuple[str, ...] = setting(
        ["en", "ar"], "Languages the site publishes in; one edition per language."
    )
    logo_url: str = setting("", "Absolute https URL of a logo image (empty: text masthead).")
    logo_width: int = setting(200, "Logo width in CSS pixels (Outlook shows it at this size).")
    logo_height: int = setting(50, "Logo height in CSS pixels.")
    templates: str = setting(
        "",
        "Folder of templates (and locale/<lang>.toml catalogues) that override the packaged "
        "ones (empty: packaged only).",
    )
    preheader: str = setting(
        "",
        "Hidden inbox preview line after the subject, a template: {stories} (the next two or "
        "three headlines), {headline}, {site}, {date}. Empty: the catalogue's line naming the "
        "next stories. One string or a table per language.",
        localised=True,
    )
    postal_address: str = setting(
        "",
        "Postal address in the email footer. Required by anti-spam law (CAN-SPAM): the email "
        "checks fail while it is empty.",
        localised=True,
    )
    list_id: str = setting(
        "",
        "List identifier (List-Id header, scope of unsubscribe tokens), a dotted ASCII name. "
        "Empty: digest.<domain of mail.from>, stored in the database the first time it is "
        "used, so a later change of mail.from keeps every link already sent working.",
    )


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = setting(
        "sqlite:///digest.db",
        "SQLAlchemy URL. A relative SQLite path is relative to this file's folder.",
    )
    pool_size: int = setting(
        5, "Connections kept open per process (PostgreSQL; SQLite opens one per use)."
    )
    max_overflow: int = setting(
        10, "Connections opened beyond pool_size under load, closed when returned."
    )
    statement_timeout: int = setting(
        0,
        "Milliseconds one SQL statement may run on PostgreSQL before the server cancels it "
        "(0: no limit). Set it above the longest bulk step (import merge, delivery creation).",
    )


@dataclass(frozen=True)
class IngestSettings:
    timeout: float = setting(
        20.0, "Seconds one HTTP attempt at a feed or page may take before it counts as failed."
    )
    retries: int = setting(
        2, "Extra attempts after a transient HTTP failure (timeout, dropped connection, 429, 5xx)."
    )
    retry_backoff: float = setting(
        1.0, "Seconds before the first retry; doubled for each further one."
    )
    concurrency: int = setting(4, "Feeds and pages fetched at the same time.")
    max_bytes: int = setting(20_000_000, "Largest feed or page accepted over HTTP, in bytes.")
    user_agent: str = setting(
        "", "User-Agent of HTTP fetches (empty: newsletter-digest/VERSION (+site.url))."
    )


@dataclass(frozen=True)
class MailSettings:
    from_address: str = setting(
        "digest@arabpress.example",
        "From address of every digest (a display name here overrides site.name).",
        key="from",
    )
    from_name: str = setting(
        "",
        "From display name; one string or a table per language. Empty: the name in `from`, "
        "else site.name in the edition's language.",
        localised=True,
    )
    subject: str = setting(
        "",
        "Subject template: {headline} (the lead story's, shortened to fit), {site}, {date}; "
        "kept within 60 columns. Empty: the catalogue's (the lead headline alone). One string "
        "or a table per language.",
        localised=True,
    )
    reply_to: str = setting("", "Reply-To header (empty: none).")
    transport: str = setting(
        "maildir:./outbox",
        "Where mail goes: maildir:PATH (a Maildir folder, relative to this file's folder), "
        "smtp://[user@]host[:port] (STARTTLS, certificate verified; ?tls=off only for a "
        "loopback host) or smtps://[user@]host[:port] (implicit TLS). The password comes "
        "from DIGEST_SMTP_PASSWORD.",
    )
    concurrency: int = setting(8, "SMTP connections in parallel, each reused for many messages.")
    rate: float = setting(0.0, "Messages per second at most (token bucket); 0 = unlimited.")
    max_attempts: int = setting(
        5,
        "Tries per delivery in one run for transient failures (4xx replies, dropped "
        "connections, timeouts); what still fails stays deferred for the next run.",
    )
    retry_backoff: float = setting(
        1.0, "Seconds before the first retry; doubled for each further try, with jitter."
    )
    retry_backoff_max: float = setting(60.0, "Longest wait between two tries, in seconds.")
    timeout: float = setting(
        30.0, "Seconds to wait for the SMTP server to connect or to answer a command (more than 0)."
    )
    data_timeout: float = setting(
        600.0,
        "Seconds to wait for the reply to the end of a message (the final '.'), RFC 5321 "
        "4.5.3.2.6; no reply by then makes the delivery 'uncertain' (never resent on its own). "
        "At least mail.timeout.",
    )
    circuit_breaker: int = setting(
        5,
        "The same relay-wide refusal (quota, policy, relay denied) for this many recipients in "
        "a row stops the run (exit 4) and leaves them pending (for all of a run's deliveries "
        "when there are fewer); 0 = never stop.",
    )
    bounce_threshold: int = setting(
        3,
        "Address failures (5.1.x, 5.2.1, or 550/551/553 at RCPT) after which a subscriber is "
        "marked bounced; 0 = never. Refusals of the relay or sender never count.",
    )
    dkim_selector: str = setting("", "DKIM selector; empty: messages are not DKIM-signed.")
    dkim_domain: str = setting("", "DKIM signing domain (d=); empty: the From domain.")
    dkim_key_file: str = setting(
        "", "PEM private key for DKIM, relative to this file's folder (keep it mode 0600)."
    )
    unsubscribe_url: str = setting(
        "https://arabpress.example/u/{token}",
        "One-click unsubscribe URL; {token} is replaced by the subscriber's signed token.",
    )
    unsubscribe_mailto: str = setting(
        "unsubscribe@arabpress.example", "Address for mailto: unsubscribe requests."
    )
    bounce_address: str = setting(
        "",
        "Envelope sender (Return-Path) that bounces go to, read by `digest bounces process` "
        "(empty: the From address).",
    )
    verp: bool = setting(
        False,
        "VERP: each message's envelope sender is bounce_address with +<signed delivery id> "
        "after its local part, so a bounce names its delivery even from a forwarded address.",
    )
    soft_bounce_threshold: int = setting(
        3,
        "Soft (temporary) bounces in a row, for consecutive deliveries, that count as one "
        "address failure towards bounce_threshold; 0 = soft bounces never count.",
    )


@dataclass(frozen=True)
class SelectionSettings:
    window_hours: int = setting(
        24,
        "Hours (of local wall-clock time) the first edition of a language looks back; every "
        "later edition starts where the previous frozen one ended.",
        maximum=HOURS_A_YEAR,
    )
    top_stories: int = setting(8, "Top stories per edition.", maximum=100)
    min_personal_stories: int = setting(
        4,
        "A subscriber who chose sections gets their sections' top stories first; when fewer "
        "than this many match, the general selection fills the edition up to this many.",
        maximum=100,
    )
    related_per_story: int = setting(3, "Related items under each top story, at most.", maximum=100)
    no_repeat_days: int = setting(
        7,
        "An article that led a sent edition this many days back is not a top story again.",
        maximum=DAYS_TEN_YEARS,
    )
    weight_priority: float = setting(1.0, "Weight of the article's editorial priority.")
    weight_popularity: float = setting(0.5, "Weight of popularity (views), when known.")
    weight_recency: float = setting(1.0, "Weight of recency (newer scores higher).")
    recency_half_life_hours: float = setting(
        12.0, "Hours after which the recency score halves.", maximum=HOURS_A_YEAR
    )
    weight_coverage: float = setting(
        1.0, "Weight of coverage (a story reported by more sources or pieces is bigger news)."
    )
    related_floor: float = setting(
        0.2,
        "Minimum content similarity (0..1) for an item to count as related; below it a "
        "story gets no related items rather than filler.",
    )
    duplicate_threshold: float = setting(
        0.6,
        "Content similarity (0..1) from which two articles are the same report (a copy, "
        "rewrite or update): one group, one top story, never each other's related item.",
    )


@dataclass(frozen=True)
class ScheduleSettings:
    at: str = setting("07:00", "Local send time, HH:MM.")
    timezone: str = setting("Asia/Riyadh", "IANA time zone of the send time.")
    grace: str = setting(
        "6h",
        "How late a missed run may still send the day's edition (`digest schedule` started "
        "after the send time); later, that edition is skipped and its news goes into the "
        "next one. A duration: 90m, 6h, 1d.",
    )
    retry_every: str = setting(
        "15m",
        "How often `digest schedule` retries deferred deliveries, until the edition is "
        "complete or the next one is due. A duration: 30s, 15m, 1h.",
    )
    local_time: bool = setting(
        False,
        "Deliver at `at` in each subscriber's own time zone (the site's when they have "
        "none). The edition is frozen once, at the first zone's send time.",
    )

    @property
    def grace_period(self) -> timedelta:
        return parse_duration(self.grace)

    @property
    def retry_interval(self) -> timedelta:
        return parse_duration(self.retry_every)


@dataclass(frozen=True)
class WebSettings:
    public_url: str = setting(
        "",
        "Public address where `digest serve` is reached (https://host[/prefix]); links to the "
        "archive, preferences and sign-up pages are built from it. Empty: the origin of "
        "mail.unsubscribe_url.",
    )
    ses_topic_arns: tuple[str, ...] = setting(
        [],
        "Amazon SNS topic ARNs whose SES events POST /hooks/ses accepts (empty: the hook is "
        "off). Any AWS account can sign SNS messages, so only these topics are trusted.",
    )


@dataclass(frozen=True)
class SubscribeSettings:
    confirm_hours: int = setting(
        48, "Hours a sign-up's confirmation link stays valid (double opt-in).", maximum=HOURS_A_YEAR
    )
    client_rate: str = setting(
        "20/hour",
        "Sign-ups one client address (IP) may send, as N/second|minute|hour|day; more get 429.",
    )
    address_rate: str = setting(
        "3/day",
        "Confirmation emails one address may be sent, as N/minute|hour|day; further sign-ups "
        "for it get the same answer but no email.",
    )


SECTIONS: dict[str, type] = {
    "site": SiteSettings,
    "database": DatabaseSettings,
    "ingest": IngestSettings,
    "mail": MailSettings,
    "selection": SelectionSettings,
    "schedule": ScheduleSettings,
    "web": WebSettings,
    "subscribe": SubscribeSettings,
}


def setting_key(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("key") or f.name


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`90m`, `6h`, `1d`, `30s` (a bare number is hours) as a timedelta.

    Raises ValueError naming the text when it is not one of those shapes, or longer
    than a year.
    """
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _UNITS else "h"
    number = value[:-1] if value[-1:] in _UNITS else value
    try:
        amount = float(number)
    except ValueError:
        raise ValueError(f"expected a duration like 90m, 6h or 1d, got {text!r}") from None
    if not amount >= 0 or amount == float("inf"):
        raise ValueError(f"expected a duration like 90m, 6h or 1d, got {text!r}")
    seconds = amount * _UNITS[unit]
    if seconds > HOURS_A_YEAR * 3600:  # any longer only overflows a date
        raise ValueError(f"must be at most {HOURS_A_YEAR // 24}d, got {text!r}")
    return timedelta(seconds=seconds)
