"""Where finished messages go. The default is a Maildir folder, so nothing needs a server."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from digest.errors import ConfigError, SendError


class Transport(Protocol):
    description: str

    def deliver(self, sender: str, recipient: str, message: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass
class MaildirTransport:
    """Writes each message to `path/new` via `path/tmp` (atomic, as Maildir requires)."""

    path: Path

    def __post_init__(self) -> None:
        try:
            self._box = mailbox.Maildir(self.path, create=True)
        except OSError as e:
            raise SendError(f"maildir {self.path}: {e.strerror}") from e
        self.description = f"Maildir {self.path}"

    def deliver(self, sender: str, recipient: str, message: bytes) -> None:
        try:
            self._box.add(message)
        except OSError as e:
            raise SendError(f"maildir {self.path}: {e.strerror}") from e

    def close(self) -> None:
        self._box.close()


def maildir_path(url: str, base_dir: Path) -> Path:
    path = Path(url[len("maildir:") :]).expanduser()
    if not str(path) or str(path) == ".":
        raise ConfigError("[mail] transport: maildir: needs a folder, e.g. maildir:./outbox")
    return path if path.is_absolute() else (base_dir / path)


def open_transport(url: str, base_dir: Path) -> Transport:
    """A transport for `url`; relative Maildir paths are relative to the config folder."""
    if url.startswith("maildir:"):
        return MaildirTransport(maildir_path(url, base_dir))
    scheme = url.split(":", 1)[0]
    raise ConfigError(
        f"[mail] transport: unsupported transport {scheme!r}",
        hint="this release delivers to maildir:PATH",
    )
