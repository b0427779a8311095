"""The checks of loaded settings that span keys or need parsing (`validate`), so a bad
value fails when the settings are loaded, naming its key, and never on the morning of a
send.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digest.errors import ConfigError
from digest.settings import MIN_SECRET_KEY_BYTES, NEW_KEY_HINT, Localised, parse_duration

if TYPE_CHECKING:
    from digest.config import Settings

#: A rate limit as `limits` parses it (checked here so serve cannot start with a bad one).
RATE = re.compile(r"[1-9][0-9]{0,8}\s*(/|per)\s*(1\s*)?(second|minute|hour|day)s?", re.I)


def check_secret_key(key: str, origin: str, hint: str = NEW_KEY_HINT) -> str:
    """`key` if it holds at least MIN_SECRET_KEY_BYTES bytes besides blanks; else a
    ConfigError naming `origin` (the file or variable it came from)."""
    if len(key.strip().encode("utf-8")) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(
            f"{origin}: the secret key is {'empty' if not key.strip() else 'too short'}"
            f" (at least {MIN_SECRET_KEY_BYTES} bytes, or tokens can be forged)",
            hint=hint,
        )
    return key


def validate(settings: Settings) -> None:
    """Raise ConfigError, naming the key, for the first value of `settings` that is out of
    range or does not parse (time zone, durations, rates, templates, the [mail] identity)."""
    origin = str(settings.config_path or "settings")
    if settings.secrets.secret_key is not None:  # the key file is checked when it is read
        check_secret_key(settings.secrets.secret_key, "environment DIGEST_SECRET_KEY")
    if not settings.site.languages:
        raise ConfigError(f"{origin}: [site] languages: at least one language is needed")
    for language in settings.site.languages:
        if not language.isalpha() or len(language) > 8:
            raise ConfigError(f"{origin}: [site] languages: {language!r} is not a language code")
    hh, _, mm = settings.schedule.at.partition(":")
    if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
        raise ConfigError(f"{origin}: [schedule] at: expected HH:MM, got {settings.schedule.at!r}")
    try:
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
    for key in ("top_stories", "window_hours"):  # 0 hours: every first edition empty
        if getattr(settings.selection, key) < 1:
            raise ConfigError(f"{origin}: [selection] {key}: must be at least 1")
    if settings.selection.recency_half_life_hours <= 0:  # recency would not count at all
        raise ConfigError(f"{origin}: [selection] recency_half_life_hours: must be more than 0")
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
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:
        raise ConfigError(f"{where}: {e} (write {{{{ and }}}} for literal braces)") from None
    unknown = sorted(used - allowed)
    if unknown:
        fields = ", ".join("{" + name + "}" for name in sorted(allowed))
        raise ConfigError(f"{where}: unknown field {{{unknown[0]}}} (allowed: {fields})")
