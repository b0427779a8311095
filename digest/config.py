"""Settings: declared once, read from defaults < digest.toml < environment < options.

Each setting is a dataclass field whose metadata carries its help text, so `digest init`
writes the commented file from the same declaration the code reads (docs cannot drift).
Secrets are not settings: they come from the environment only and are never printed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from digest.errors import ConfigError

if TYPE_CHECKING:
    from digest.delivery.options import MailIdentity, SendOptions

#: A rate limit as `limits` parses it (checked here so serve cannot start with a bad one).
RATE = re.compile(r"[1-9][0-9]{0,8}\s*(/|per)\s*(1\s*)?(second|minute|hour|day)s?", re.I)

DEFAULT_CONFIG_NAME = "digest.toml"
#: Bounds of the settings that become dates: far beyond any use, far below an overflow.
HOURS_A_YEAR = 366 * 24
DAYS_TEN_YEARS = 3660
SECRET_KEY_FILE = "secret.key"


#: Largest whole number and number any setting takes unless it sets its own `maximum`:
#: larger ones only overflow a date, a timer or a database column somewhere.
MAX_WHOLE = 2**31 - 1
MAX_NUMBER = 1e9


def _setting(
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
    name: str = _setting(
        Localised.of({"en": "Arab Press", "ar": "عرب برس"}),
        "Publication name: masthead, From display name, List-Id. One string, or a table "
        'per language: {en = "Arab Press", ar = "عرب برس"}.',
        localised=True,
    )
    url: str = _setting("https://arabpress.example", "Public address of the site (footer link).")
    tagline: str = _setting(
        Localised.of({"en": "By the people, for the people", "ar": "بالشعب و للشعب"}),
        "Short line under the masthead; one string or a table per language.",
        localised=True,
    )
    languages: tuple[str, ...] = _setting(
        ["en", "ar"], "Languages the site publishes in; one edition per language."
    )
    logo_url: str = _setting("", "Absolute https URL of a logo image (empty: text masthead).")
    logo_width: int = _setting(200, "Logo width in CSS pixels (Outlook shows it at this size).")
    logo_height: int = _setting(50, "Logo height in CSS pixels.")
    templates: str = _setting(
        "",
        "Folder of templates (and locale/<lang>.toml catalogues) that override the packaged "
        "ones (empty: packaged only).",
    )
    preheader: str = _setting(
        "",
        "Hidden inbox preview line after the subject, a template: {stories} (the next two or "
        "three headlines), {headline}, {site}, {date}. Empty: the catalogue's line naming the "
        "next stories. One string or a table per language.",
        localised=True,
    )
    postal_address: str = _setting(
        "",
        "Postal address in the email footer. Required by anti-spam law (CAN-SPAM): the email "
        "checks fail while it is empty.",
        localised=True,
    )
    list_id: str = _setting(
        "",
        "List identifier (List-Id header, scope of unsubscribe tokens), a dotted ASCII name. "
        "Empty: digest.<domain of mail.from>, stored in the database the first time it is "
        "used, so a later change of mail.from keeps every link already sent working.",
    )


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _setting(
        "sqlite:///digest.db",
        "SQLAlchemy URL. A relative SQLite path is relative to this file's folder.",
    )
    pool_size: int = _setting(
        5, "Connections kept open per process (PostgreSQL; SQLite opens one per use)."
    )
    max_overflow: int = _setting(
        10, "Connections opened beyond pool_size under load, closed when returned."
    )
    statement_timeout: int = _setting(
        0,
        "Milliseconds one SQL statement may run on PostgreSQL before the server cancels it "
        "(0: no limit). Set it above the longest bulk step (import merge, delivery creation).",
    )


@dataclass(frozen=True)
class IngestSettings:
    timeout: float = _setting(
        20.0, "Seconds one HTTP attempt at a feed or page may take before it counts as failed."
    )
    retries: int = _setting(
        2, "Extra attempts after a transient HTTP failure (timeout, dropped connection, 429, 5xx)."
    )
    retry_backoff: float = _setting(
        1.0, "Seconds before the first retry; doubled for each further one."
    )
    concurrency: int = _setting(4, "Feeds and pages fetched at the same time.")
    max_bytes: int = _setting(20_000_000, "Largest feed or page accepted over HTTP, in bytes.")
    user_agent: str = _setting(
        "", "User-Agent of HTTP fetches (empty: newsletter-digest/VERSION (+site.url))."
    )


@dataclass(frozen=True)
class MailSettings:
    from_address: str = _setting(
        "digest@arabpress.example",
        "From address of every digest (a display name here overrides site.name).",
        key="from",
    )
    from_name: str = _setting(
        "",
        "From display name; one string or a table per language. Empty: the name in `from`, "
        "else site.name in the edition's language.",
        localised=True,
    )
    subject: str = _setting(
        "",
        "Subject template: {headline} (the lead story's, shortened to fit), {site}, {date}; "
        "kept within 60 columns. Empty: the catalogue's (the lead headline alone). One string "
        "or a table per language.",
        localised=True,
    )
    reply_to: str = _setting("", "Reply-To header (empty: none).")
    transport: str = _setting(
        "maildir:./outbox",
        "Where mail goes: maildir:PATH (a Maildir folder, relative to this file's folder), "
        "smtp://[user@]host[:port] (STARTTLS, certificate verified; ?tls=off only for a "
        "loopback host) or smtps://[user@]host[:port] (implicit TLS). The password comes "
        "from DIGEST_SMTP_PASSWORD.",
    )
    concurrency: int = _setting(8, "SMTP connections in parallel, each reused for many messages.")
    rate: float = _setting(0.0, "Messages per second at most (token bucket); 0 = unlimited.")
    max_attempts: int = _setting(
        5,
        "Tries per delivery in one run for transient failures (4xx replies, dropped "
        "connections, timeouts); what still fails stays deferred for the next run.",
    )
    retry_backoff: float = _setting(
        1.0, "Seconds before the first retry; doubled for each further try, with jitter."
    )
    retry_backoff_max: float = _setting(60.0, "Longest wait between two tries, in seconds.")
    timeout: float = _setting(
        30.0, "Seconds to wait for the SMTP server to connect or to answer a command (more than 0)."
    )
    data_timeout: float = _setting(
        600.0,
        "Seconds to wait for the reply to the end of a message (the final '.'), RFC 5321 "
        "4.5.3.2.6; no reply by then makes the delivery 'uncertain' (never resent on its own). "
        "At least mail.timeout.",
    )
    circuit_breaker: int = _setting(
        5,
        "The same relay-wide refusal (quota, policy, relay denied) for this many recipients in "
        "a row stops the run (exit 4) and leaves them pending (for all of a run's deliveries "
        "when there are fewer); 0 = never stop.",
    )
    bounce_threshold: int = _setting(
        3,
        "Address failures (5.1.x, 5.2.1, or 550/551/553 at RCPT) after which a subscriber is "
        "marked bounced; 0 = never. Refusals of the relay or sender never count.",
    )
    dkim_selector: str = _setting("", "DKIM selector; empty: messages are not DKIM-signed.")
    dkim_domain: str = _setting("", "DKIM signing domain (d=); empty: the From domain.")
    dkim_key_file: str = _setting(
        "", "PEM private key for DKIM, relative to this file's folder (keep it mode 0600)."
    )
    unsubscribe_url: str = _setting(
        "https://arabpress.example/u/{token}",
        "One-click unsubscribe URL; {token} is replaced by the subscriber's signed token.",
    )
    unsubscribe_mailto: str = _setting(
        "unsubscribe@arabpress.example", "Address for mailto: unsubscribe requests."
    )
    bounce_address: str = _setting(
        "",
        "Envelope sender (Return-Path) that bounces go to, read by `digest bounces process` "
        "(empty: the From address).",
    )
    verp: bool = _setting(
        False,
        "VERP: each message's envelope sender is bounce_address with +<signed delivery id> "
        "after its local part, so a bounce names its delivery even from a forwarded address.",
    )
    soft_bounce_threshold: int = _setting(
        3,
        "Soft (temporary) bounces in a row, for consecutive deliveries, that count as one "
        "address failure towards bounce_threshold; 0 = soft bounces never count.",
    )


@dataclass(frozen=True)
class SelectionSettings:
    window_hours: int = _setting(
        24,
        "Hours (of local wall-clock time) the first edition of a language looks back; every "
        "later edition starts where the previous frozen one ended.",
        maximum=HOURS_A_YEAR,
    )
    top_stories: int = _setting(8, "Top stories per edition.", maximum=100)
    min_personal_stories: int = _setting(
        4,
        "A subscriber who chose sections gets their sections' top stories first; when fewer "
        "than this many match, the general selection fills the edition up to this many.",
        maximum=100,
    )
    related_per_story: int = _setting(
        3, "Related items under each top story, at most.", maximum=100
    )
    no_repeat_days: int = _setting(
        7,
        "An article that led a sent edition this many days back is not a top story again.",
        maximum=DAYS_TEN_YEARS,
    )
    weight_priority: float = _setting(1.0, "Weight of the article's editorial priority.")
    weight_popularity: float = _setting(0.5, "Weight of popularity (views), when known.")
    weight_recency: float = _setting(1.0, "Weight of recency (newer scores higher).")
    recency_half_life_hours: float = _setting(
        12.0, "Hours after which the recency score halves.", maximum=HOURS_A_YEAR
    )
    weight_coverage: float = _setting(
        1.0, "Weight of coverage (a story reported by more sources or pieces is bigger news)."
    )
    related_floor: float = _setting(
        0.2,
        "Minimum content similarity (0..1) for an item to count as related; below it a "
        "story gets no related items rather than filler.",
    )
    duplicate_threshold: float = _setting(
        0.6,
        "Content similarity (0..1) from which two articles are the same report (a copy, "
        "rewrite or update): one group, one top story, never each other's related item.",
    )


@dataclass(frozen=True)
class ScheduleSettings:
    at: str = _setting("07:00", "Local send time, HH:MM.")
    timezone: str = _setting("Asia/Riyadh", "IANA time zone of the send time.")
    grace: str = _setting(
        "6h",
        "How late a missed run may still send the day's edition (`digest schedule` started "
        "after the send time); later, that edition is skipped and its news goes into the "
        "next one. A duration: 90m, 6h, 1d.",
    )
    retry_every: str = _setting(
        "15m",
        "How often `digest schedule` retries deferred deliveries, until the edition is "
        "complete or the next one is due. A duration: 30s, 15m, 1h.",
    )
    local_time: bool = _setting(
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
    public_url: str = _setting(
        "",
        "Public address where `digest serve` is reached (https://host[/prefix]); links to the "
        "archive, preferences and sign-up pages are built from it. Empty: the origin of "
        "mail.unsubscribe_url.",
    )
    ses_topic_arns: tuple[str, ...] = _setting(
        [],
        "Amazon SNS topic ARNs whose SES events POST /hooks/ses accepts (empty: the hook is "
        "off). Any AWS account can sign SNS messages, so only these topics are trusted.",
    )


@dataclass(frozen=True)
class SubscribeSettings:
    confirm_hours: int = _setting(
        48, "Hours a sign-up's confirmation link stays valid (double opt-in).", maximum=HOURS_A_YEAR
    )
    client_rate: str = _setting(
        "20/hour",
        "Sign-ups one client address (IP) may send, as N/second|minute|hour|day; more get 429.",
    )
    address_rate: str = _setting(
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

#: Environment variables that override a setting, documented in the README.
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "DIGEST_DATABASE_URL": ("database", "url"),
    "DIGEST_TRANSPORT": ("mail", "transport"),
}


@dataclass(frozen=True)
class Secrets:
    """Values read from the environment only; repr hides them."""

    smtp_password: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    imap_password: str | None = field(default=None, repr=False)
    postmark_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    selection: SelectionSettings = field(default_factory=SelectionSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    web: WebSettings = field(default_factory=WebSettings)
    subscribe: SubscribeSettings = field(default_factory=SubscribeSettings)
    secrets: Secrets = field(default_factory=Secrets, repr=False)
    #: Folder that relative paths (SQLite file, Maildir) are resolved against.
    base_dir: Path = field(default_factory=Path.cwd)
    #: The config file read, if any.
    config_path: Path | None = None

    @property
    def database_url(self) -> str:
        return resolve_sqlite_url(self.database.url, self.base_dir)

    @property
    def public_url(self) -> str:
        """Where `digest serve` is reached, without a trailing slash.

        `web.public_url` when set, else the scheme and host of `mail.unsubscribe_url`, so a
        site that only configured unsubscribe links gets working archive and preference links.
        """
        if self.web.public_url:
            return self.web.public_url.rstrip("/")
        parts = urlsplit(self.mail.unsubscribe_url)
        return f"{parts.scheme}://{parts.netloc}"

    @functools.cached_property
    def mail_identity(self) -> MailIdentity:
        """From, envelope sender, list id and transport, parsed once (ConfigError if bad)."""
        from digest.delivery.options import mail_identity

        return mail_identity(self)

    @functools.cached_property
    def send_options(self) -> SendOptions:
        """The sender's knobs from [mail], checked once (ConfigError naming the key)."""
        from digest.delivery.options import send_options

        return send_options(self)

    def resolve_path(self, path: str) -> Path:
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def secret_key(self) -> str:
        """The token-signing key: DIGEST_SECRET_KEY, else a key file beside the config."""
        if self.secrets.secret_key:
            return self.secrets.secret_key
        key_file = self.base_dir / SECRET_KEY_FILE
        try:
            return key_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(
                "no secret key: set DIGEST_SECRET_KEY",
                hint=f"or run 'digest init' to create {SECRET_KEY_FILE}",
            ) from None


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


def setting_key(f: dataclasses.Field[Any]) -> str:
    return f.metadata.get("key") or f.name


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """Make `sqlite:///relative.db` relative to the config folder, not the process cwd."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return url
    path = url[len(prefix) :]
    if not path or path == ":memory:" or path.startswith("/"):
        return url
    return prefix + str((base_dir / path).resolve())


def _coerce(section: str, f: dataclasses.Field[Any], value: Any, origin: str, *, text: bool) -> Any:
    """The typed value of one setting. `text`: the value comes as text (an environment
    variable, an option), so a number may be written as one; in the TOML file a number
    in quotes is a wrong type."""
    where = f"{origin}: [{section}] {setting_key(f)}"
    default = f.default if f.default_factory is dataclasses.MISSING else f.default_factory()
    maximum = f.metadata.get("maximum")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if isinstance(default, int):
        if isinstance(value, str) and text and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return _within(where, value, MAX_WHOLE if maximum is None else maximum)
    if isinstance(default, float):
        allowed = int | float | str if text else int | float
        if isinstance(value, bool) or not isinstance(value, allowed):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        if not math.isfinite(number):  # nan compares false with everything: no bound holds
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return _within(where, number, MAX_NUMBER if maximum is None else maximum)
    if isinstance(default, tuple):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    if f.metadata.get("localised") and isinstance(value, dict):
        if not value or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(
                f'{where}: expected a string or a table of language = "text", got {value!r}'
            )
        return Localised.of(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def _within(where: str, number: Any, maximum: float) -> Any:
    """`number` if it is from 0 to `maximum`; else a ConfigError naming the key."""
    if number < 0:
        raise ConfigError(f"{where}: must not be negative, got {number}")
    if number > maximum:
        shown = int(maximum) if float(maximum).is_integer() and maximum < 1e15 else maximum
        raise ConfigError(f"{where}: must be at most {shown}, got {number}")
    return number


def _apply(
    values: dict[str, dict[str, Any]],
    section: str,
    key: str,
    value: Any,
    origin: str,
    *,
    text: bool = False,
) -> None:
    cls = SECTIONS.get(section)
    if cls is None:
        raise ConfigError(f"{origin}: unknown section [{section}]")
    by_key = {setting_key(f): f for f in dataclasses.fields(cls)}
    f = by_key.get(key)
    if f is None:
        raise ConfigError(f"{origin}: unknown key [{section}] {key}")
    values.setdefault(section, {})[f.name] = _coerce(section, f, value, origin, text=text)


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found", hint="run 'digest init' to write one"
        ) from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file: {e.strerror}") from e
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    values: dict[str, dict[str, Any]] = {}
    for section, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table, got {table!r}")
        for key, value in table.items():
            _apply(values, section, key, value, str(path))
    return values


def load_settings(
    config_path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    require_file: bool = False,
) -> Settings:
    """Build the settings. `overrides` maps "section.key" to command-line values.

    A missing default config file is fine (defaults apply, so `digest demo` runs anywhere);
    a config file named explicitly (option or DIGEST_CONFIG) must exist.
    """
    env = os.environ if env is None else env
    explicit = config_path is not None or bool(env.get("DIGEST_CONFIG"))
    if config_path is None:
        config_path = Path(env.get("DIGEST_CONFIG") or DEFAULT_CONFIG_NAME)
    config_path = config_path.expanduser()
    values: dict[str, dict[str, Any]] = {}
    read_path: Path | None = None
    if config_path.exists() or explicit or require_file:
        values = read_config_file(config_path)
        read_path = config_path.resolve()
    for variable, (section, key) in ENVIRONMENT.items():
        if env.get(variable):
            _apply(values, section, key, env[variable], f"environment {variable}", text=True)
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, key = dotted.split(".", 1)
        _apply(values, section, key, value, f"option for {dotted}", text=True)
    sections = {name: cls(**values.get(name, {})) for name, cls in SECTIONS.items()}
    settings = Settings(
        **sections,
        secrets=Secrets(
            smtp_password=env.get("DIGEST_SMTP_PASSWORD") or None,
            secret_key=env.get("DIGEST_SECRET_KEY") or None,
            imap_password=env.get("DIGEST_IMAP_PASSWORD") or None,
            postmark_secret=env.get("DIGEST_POSTMARK_SECRET") or None,
        ),
        base_dir=(read_path.parent if read_path else config_path.resolve().parent),
        config_path=read_path,
    )
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    """Checks that span keys or need parsing; each error names the key."""
    origin = str(settings.config_path or "settings")
    if not settings.site.languages:
        raise ConfigError(f"{origin}: [site] languages: at least one language is needed")
    for language in settings.site.languages:
        if not language.isalpha() or len(language) > 8:
            raise ConfigError(f"{origin}: [site] languages: {language!r} is not a language code")
    hh, _, mm = settings.schedule.at.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError(f"{origin}: [schedule] at: expected HH:MM, got {settings.schedule.at!r}")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.schedule.timezone)
    except Exception:
        raise ConfigError(
            f"{origin}: [schedule] timezone: unknown time zone {settings.schedule.timezone!r}"
        ) from None
    for key in ("grace", "retry_every"):
        try:
            period = parse_duration(getattr(settings.schedule, key))
        except ValueError as e:
            raise ConfigError(f"{origin}: [schedule] {key}: {e}") from None
        if key == "retry_every" and period < timedelta(seconds=1):
            raise ConfigError(f"{origin}: [schedule] retry_every: must be at least 1s")
    if "{token}" not in settings.mail.unsubscribe_url:
        raise ConfigError(f"{origin}: [mail] unsubscribe_url: must contain {{token}}")
    if settings.mail.concurrency < 1:
        raise ConfigError(f"{origin}: [mail] concurrency: must be at least 1")
    if settings.selection.top_stories < 1:
        raise ConfigError(f"{origin}: [selection] top_stories: must be at least 1")
    for key in ("related_floor", "duplicate_threshold"):
        if not 0.0 < getattr(settings.selection, key) <= 1.0:
            raise ConfigError(f"{origin}: [selection] {key}: must be above 0 and at most 1")
    if settings.selection.related_floor >= settings.selection.duplicate_threshold:
        raise ConfigError(
            f"{origin}: [selection] related_floor: must be below duplicate_threshold "
            f"({settings.selection.duplicate_threshold}), or nothing can be related"
        )
    for key in ("timeout", "concurrency", "max_bytes"):
        if getattr(settings.ingest, key) <= 0:
            raise ConfigError(f"{origin}: [ingest] {key}: must be more than 0")
    for section, key, allowed in TEMPLATE_FIELDS:
        value = getattr(getattr(settings, section), key)
        texts = value.values.values() if isinstance(value, Localised) and value.values else [value]
        for text in texts:
            _check_template(f"{origin}: [{section}] {key}", text, allowed)
    if settings.subscribe.confirm_hours < 1:
        raise ConfigError(f"{origin}: [subscribe] confirm_hours: must be at least 1")
    for key in ("client_rate", "address_rate"):
        if not RATE.fullmatch(getattr(settings.subscribe, key).strip()):
            raise ConfigError(
                f"{origin}: [subscribe] {key}: expected N/second, N/minute, N/hour or N/day "
                f'(e.g. "10/hour"), got {getattr(settings.subscribe, key)!r}'
            )
    # A bad [mail] section fails now, at start-up, not on the morning of a send.
    settings.mail_identity  # noqa: B018
    settings.send_options  # noqa: B018


#: Settings that are templates, and the {fields} each may use.
TEMPLATE_FIELDS = (
    ("mail", "subject", frozenset({"headline", "site", "date"})),
    ("site", "preheader", frozenset({"stories", "headline", "site", "date"})),
)


def _check_template(where: str, text: str, allowed: frozenset[str]) -> None:
    import string

    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:
        raise ConfigError(f"{where}: {e} (write {{{{ and }}}} for literal braces)") from None
    unknown = sorted(used - allowed)
    if unknown:
        fields = ", ".join("{" + name + "}" for name in sorted(allowed))
        raise ConfigError(f"{where}: unknown field {{{unknown[0]}}} (allowed: {fields})")


def _toml_value(value: Any) -> str:
    if isinstance(value, Localised) and value.values:
        pairs = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.values.items())
        return "{" + pairs + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _toml_key(key: str) -> str:
    return (
        key
        if key.replace("-", "").replace("_", "").isalnum() and key.isascii()
        else (_toml_value(str(key)))
    )


def default_config_text(values: Mapping[str, Any] | None = None) -> str:
    """The commented digest.toml written by `digest init`, generated from the declaration.

    `values` maps "section.key" to a value written instead of the default (the identity
    `init` was given)."""
    values = values or {}
    lines = [
        "# newsletter-digest configuration.",
        "# Precedence: defaults < this file < environment variables < command-line options.",
        "# Secrets never go here: DIGEST_SMTP_PASSWORD and DIGEST_SECRET_KEY come from the",
        "# environment only (without DIGEST_SECRET_KEY, the key in secret.key beside this file",
        "# signs unsubscribe tokens).",
        "",
    ]
    defaults = Settings()
    for name in SECTIONS:
        lines.append(f"[{name}]")
        section = getattr(defaults, name)
        for f in dataclasses.fields(section):
            lines.append(f"# {f.metadata['help']}")
            value = values.get(f"{name}.{setting_key(f)}", getattr(section, f.name))
            lines.append(f"{setting_key(f)} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def settings_reference() -> list[tuple[str, Any, str]]:
    """(dotted key, default, help) for every setting: used by docs and their test."""
    defaults = Settings()
    rows = []
    for name in SECTIONS:
        section = getattr(defaults, name)
        for f in dataclasses.fields(section):
            rows.append((f"{name}.{setting_key(f)}", getattr(section, f.name), f.metadata["help"]))
    return rows


def write_default_config(
    path: Path, *, force: bool = False, values: Mapping[str, Any] | None = None
) -> bool:
    """Write the commented config; keep an existing file unless `force`. True if written."""
    if path.exists() and not force:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_config_text(values), encoding="utf-8")
    return True


def ensure_secret_key_file(base_dir: Path) -> bool:
    """Create the token key file (mode 0600) if missing. True if created."""
    key_file = base_dir / SECRET_KEY_FILE
    if key_file.exists():
        return False
    base_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return True
