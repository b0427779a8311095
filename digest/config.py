"""Settings: read from defaults < digest.toml < environment < options, and checked once.

The sections and their settings are declared in `settings`; the file `digest init`
writes is generated from that declaration in `config_file`. This module reads a file,
the environment and the options into typed values and checks what spans keys, so a bad
value fails at start-up naming its key. Secrets are not settings: they come from the
environment only and are never printed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from digest.config_checks import check_secret_key, validate
from digest.config_file import (
    default_config_text,
    ensure_secret_key_file,
    settings_reference,
    write_default_config,
)
from digest.errors import ConfigError
from digest.settings import (
    DAYS_TEN_YEARS,
    HOURS_A_YEAR,
    MAX_NUMBER,
    MAX_WHOLE,
    SECRET_KEY_FILE,
    SECTIONS,
    DatabaseSettings,
    IngestSettings,
    Localised,
    MailSettings,
    ScheduleSettings,
    SelectionSettings,
    SiteSettings,
    SubscribeSettings,
    WebSettings,
    localised,
    parse_duration,
    setting_key,
)

if TYPE_CHECKING:
    from digest.delivery.options import MailIdentity, SendOptions

__all__ = [
    "DAYS_TEN_YEARS",
    "DEFAULT_CONFIG_NAME",
    "ENVIRONMENT",
    "HOURS_A_YEAR",
    "SECRET_KEY_FILE",
    "SECTIONS",
    "DatabaseSettings",
    "IngestSettings",
    "Localised",
    "MailSettings",
    "ScheduleSettings",
    "Secrets",
    "SelectionSettings",
    "Settings",
    "SiteSettings",
    "SubscribeSettings",
    "WebSettings",
    "default_config_text",
    "ensure_secret_key_file",
    "load_settings",
    "localised",
    "parse_duration",
    "read_config_file",
    "resolve_sqlite_url",
    "setting_key",
    "settings_reference",
    "validate",
    "write_default_config",
]

DEFAULT_CONFIG_NAME = "digest.toml"


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
        """The token-signing key: DIGEST_SECRET_KEY, else a key file beside the config.
        ConfigError when there is none, or it is shorter than MIN_SECRET_KEY_BYTES."""
        if self.secrets.secret_key:
            return self.secrets.secret_key
        key_file = self.base_dir / SECRET_KEY_FILE
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(
                "no secret key: set DIGEST_SECRET_KEY",
                hint=f"or run 'digest init' to create {SECRET_KEY_FILE}",
            ) from None
        hint = "run 'digest init' to replace an empty one, or write a longer one"
        return check_secret_key(key, str(key_file), hint)


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
