"""The commented digest.toml that `digest init` writes, and the token key file beside it:
both generated from the settings' declaration (`settings`), so the file documents every
setting the code reads.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from digest.settings import SECRET_KEY_FILE, SECTIONS, Localised, setting_key

#: What `ensure_secret_key_file` did with the key file.
KeyFile = Literal["kept", "created", "replaced"]


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
    for name in SECTIONS:
        lines.append(f"[{name}]")
        section = SECTIONS[name]()
        for f in dataclasses.fields(section):
            lines.append(f"# {f.metadata['help']}")
            value = values.get(f"{name}.{setting_key(f)}", getattr(section, f.name))
            lines.append(f"{setting_key(f)} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def settings_reference() -> list[tuple[str, Any, str]]:
    """(dotted key, default, help) for every setting: used by docs and their test."""
    rows = []
    for name in SECTIONS:
        section = SECTIONS[name]()
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


def ensure_secret_key_file(base_dir: Path) -> KeyFile:
    """Create the token key file (mode 0600) if missing or blank; keep a good one.

    A blank file (a failed copy, `touch secret.key`) signs nothing safely and no working
    link can have come from it, so it is replaced. A short key is refused (ConfigError):
    links already sent may depend on it, so only the user may throw it away."""
    from digest.config_checks import check_secret_key

    key_file = base_dir / SECRET_KEY_FILE
    if key_file.exists():
        key = key_file.read_text(encoding="utf-8")
        if key.strip():
            check_secret_key(key, str(key_file), "delete it and run 'digest init' again")
            return "kept"
        _write_new_key(key_file, replace=True)
        return "replaced"
    base_dir.mkdir(parents=True, exist_ok=True)
    _write_new_key(key_file, replace=False)
    return "created"


def _write_new_key(key_file: Path, *, replace: bool) -> None:
    """48 random bytes, base64url, in a file only its owner reads (written beside it and
    renamed over a blank one, so the file is never half-written)."""
    target = key_file.with_name(key_file.name + ".new") if replace else key_file
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    if replace:
        os.replace(target, key_file)
