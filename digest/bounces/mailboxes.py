"""Where bounce mail is read from: a Maildir folder, an mbox file or an IMAP folder.

Each source yields (key, raw bytes) lazily, one message at a time, so memory stays flat
in the number of messages, and marks what was processed so it is not read again:

- Maildir: moved into the Maildir++ subfolder `.Processed` with the Seen flag (`:2,S`);
- mbox: left as it is (we never rewrite a file another program appends to); the
  database remembers every processed message by its SHA-256, as it does for all sources;
- IMAP: flagged \\Seen and with the keyword `$DigestProcessed`, and later runs search
  only for messages without it. Messages are fetched with BODY.PEEK, so what is left in
  place (unrecognised) stays unread for a human.

`imaps://` (implicit TLS, certificate verified against the system's trust store) is the
only IMAP scheme for remote hosts; `imap://` (no TLS) is accepted for loopback hosts
only, for local servers and tests.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from digest.bounces.errors import BounceError, MailboxUnavailable
from digest.bounces.report import HEAD_BYTES, MAX_MESSAGE_BYTES
from digest.network import is_loopback

PROCESSED_FOLDER = "Processed"
IMAP_KEYWORD = "$DigestProcessed"
#: Messages fetched per IMAP round trip.
IMAP_BATCH = 50
IMAP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Inbound:
    """One message of a source: its key there and its raw RFC 5322 bytes."""

    #: Names the message within its source (file name, mbox key, IMAP UID).
    key: str
    #: The whole message; of one larger than `MAX_MESSAGE_BYTES`, only its head.
    raw: bytes
    #: The whole message's size in bytes when only its head was read, else None.
    too_large: int | None = None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def bounded(key: str, handle: _Readable) -> Inbound:
    """The message `handle` reads, whole if it is at most `MAX_MESSAGE_BYTES`, else only
    its first `HEAD_BYTES` (and its size): memory stays flat whatever arrives."""
    raw = handle.read(MAX_MESSAGE_BYTES + 1)
    if len(raw) <= MAX_MESSAGE_BYTES:
        return Inbound(key, raw)
    size = len(raw) + sum(len(chunk) for chunk in iter(lambda: handle.read(1 << 20), b""))
    return Inbound(key, raw[:HEAD_BYTES], too_large=size)


class Source(Protocol):
    """A mailbox of inbound reports."""

    origin: str
    description: str
    #: (key, why) of messages that could not be read: left in place and reported.
    unreadable: list[tuple[str, str]]

    def messages(self) -> Iterator[Inbound]:
        """Every message not yet marked processed, oldest first."""
        ...

    def mark_processed(self, keys: list[str]) -> None:
        """Move or flag these messages so they are not read again."""
        ...

    def forget(self, keys: list[str]) -> None:
        """These messages stay where they are (unrecognised or not ours)."""
        ...

    def close(self) -> None: ...


class MaildirSource:
    """A Maildir (new/ and cur/); processed mail moves to the `.Processed` subfolder."""

    origin = "maildir"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = str(path)
        self._where: dict[str, Path] = {}
        #: (file name, why) of messages that could not be read.
        self.unreadable: list[tuple[str, str]] = []

    def messages(self) -> Iterator[Inbound]:
        for sub in ("new", "cur"):
            folder = self.path / sub
            names = sorted(name for name in os.listdir(folder) if not name.startswith("."))
            for name in names:
                path = folder / name
                try:
                    with path.open("rb") as handle:
                        inbound = bounded(name, handle)
                except FileNotFoundError:  # another reader took it meanwhile
                    continue
                except OSError as e:  # left where it is, and reported
                    self.unreadable.append((name, e.strerror or str(e)))
                    continue
                self._where[name] = path
                yield inbound

    def mark_processed(self, keys: list[str]) -> None:
        target = self._processed_folder()
        for key in keys:
            source = self._where.pop(key)
            unique = key.split(":", 1)[0]
            flags = key.split(":2,", 1)[1] if ":2," in key else ""
            if "S" not in flags:
                flags = "".join(sorted(flags + "S"))
            try:
                os.rename(source, target / "cur" / f"{unique}:2,{flags}")
            except FileNotFoundError:
                continue
            except OSError as e:
                raise BounceError(f"{self.path}: cannot move {key} to {target}: {e}") from e

    def forget(self, keys: list[str]) -> None:
        for key in keys:
            self._where.pop(key, None)

    def _processed_folder(self) -> Path:
        target = self.path / f".{PROCESSED_FOLDER}"
        if not (target / "cur").is_dir():
            mailbox.Maildir(self.path, create=False).add_folder(PROCESSED_FOLDER)
        return target

    def close(self) -> None:
        self._where.clear()


class MboxSource:
    """An mbox file, read only; the database alone remembers what was processed."""

    origin = "mbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = str(path)
        self.unreadable: list[tuple[str, str]] = []
        self._box = mailbox.mbox(path, create=False)

    def messages(self) -> Iterator[Inbound]:
        for key in self._box.iterkeys():
            with self._box.get_file(key) as handle:
                yield bounded(str(key), handle)

    def mark_processed(self, keys: list[str]) -> None:
        """Nothing to do in the file: processed messages are known by their digest."""

    def forget(self, keys: list[str]) -> None:
        """Nothing is held per message."""

    def close(self) -> None:
        self._box.close()


@dataclass(frozen=True)
class ImapLocation:
    """A parsed IMAP source URL (the password is never part of it)."""

    secure: bool
    user: str
    host: str
    port: int
    folder: str

    def __str__(self) -> str:
        scheme = "imaps" if self.secure else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"


def parse_imap_url(url: str) -> ImapLocation:
    """`imaps://user@host[:port]/FOLDER` (or `imap://` on a loopback host only)."""
    parts = urlsplit(url)
    secure = parts.scheme == "imaps"
    where = f"source {url!r}"
    if parts.password is not None:
        raise BounceError(f"{where}: put the password in DIGEST_IMAP_PASSWORD, not the URL")
    if not parts.hostname or not parts.username:
        raise BounceError(f"{where}: expected imaps://user@host[:port]/FOLDER")
    try:
        port = parts.port or (993 if secure else 143)
    except ValueError:
        raise BounceError(f"{where}: the port is not a number") from None
    if not secure and not is_loopback(parts.hostname):
        raise BounceError(
            f"{where}: imap:// sends the password in clear; use imaps:// "
            "(imap:// is allowed for a loopback host only)"
        )
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapLocation(secure, unquote(parts.username), parts.hostname, port, folder)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSource:
    """An IMAP folder; processed mail gets \\Seen and the $DigestProcessed keyword."""

    origin = "imap"

    def __init__(self, location: ImapLocation, password: str) -> None:
        self.location = location
        self.description = str(location)
        self.unreadable: list[tuple[str, str]] = []
        self.keywords = True
        try:
            if location.secure:
                context = ssl.create_default_context()
                self.client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    location.host, location.port, ssl_context=context, timeout=IMAP_TIMEOUT
                )
            else:
                self.client = imaplib.IMAP4(location.host, location.port, timeout=IMAP_TIMEOUT)
        except (OSError, imaplib.IMAP4.error) as e:
            raise MailboxUnavailable(f"{location}: cannot connect: {e}") from None
        try:
            self.client.login(location.user, password)
        except imaplib.IMAP4.error as e:
            self._logout()
            raise MailboxUnavailable(f"{location}: login refused: {_reason(e)}") from None
        status, _ = self.client.select(_quote(location.folder))
        if status != "OK":
            self._logout()
            raise BounceError(f"{location}: no folder {location.folder!r}")
        flags = self.client.untagged_responses.get("PERMANENTFLAGS", [b""])
        self.keywords = any(b"\\*" in (flag or b"") for flag in flags)

    def messages(self) -> Iterator[Inbound]:
        criteria = f"UNKEYWORD {IMAP_KEYWORD} UNDELETED" if self.keywords else "UNDELETED"
        searched = self._command("uid", "SEARCH", criteria)[0]
        uids = searched.split() if isinstance(searched, bytes) else []
        for start in range(0, len(uids), IMAP_BATCH):
            chunk = b",".join(uids[start : start + IMAP_BATCH]).decode("ascii")
            # At most MAX_MESSAGE_BYTES + 1 of each (a partial fetch, RFC 3501 §6.4.5).
            what = f"(UID RFC822.SIZE BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>)"
            data = self._command("uid", "FETCH", chunk, what)
            for item in data:
                if not isinstance(item, tuple):
                    continue
                found = re.search(rb"UID (\d+)", item[0])
                size = re.search(rb"RFC822\.SIZE (\d+)", item[0])
                if found is None:
                    continue
                uid = found.group(1).decode("ascii")
                if size is not None and int(size.group(1)) > MAX_MESSAGE_BYTES:
                    yield Inbound(uid, item[1][:HEAD_BYTES], too_large=int(size.group(1)))
                else:
                    yield Inbound(uid, item[1])

    def mark_processed(self, keys: list[str]) -> None:
        if not keys:
            return
        flags = f"(\\Seen {IMAP_KEYWORD})" if self.keywords else "(\\Seen)"
        self._command("uid", "STORE", ",".join(keys), "+FLAGS.SILENT", flags)

    def forget(self, keys: list[str]) -> None:
        """Nothing is held per message."""

    def _command(self, name: str, *args: str) -> list[bytes | tuple[bytes, bytes]]:
        try:
            status, data = getattr(self.client, name)(*args)
        except (OSError, imaplib.IMAP4.error) as e:
            raise MailboxUnavailable(f"{self.location}: {args[0]} failed: {_reason(e)}") from None
        if status != "OK":
            raise MailboxUnavailable(f"{self.location}: {args[0]} refused: {data!r}")
        return list(data)

    def _logout(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self.client.logout()

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self.client.close()
        self._logout()


def _reason(error: BaseException) -> str:
    text = str(error.args[0] if error.args else error)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text


def open_source(spec: str, *, imap_password: str | None) -> Source:
    """The source `spec` names: an imaps:// URL, a Maildir folder or an mbox file.

    Raises BounceError naming `spec` when it is none of these or cannot be opened.
    """
    if spec.startswith(("imap://", "imaps://")):
        location = parse_imap_url(spec)
        if not imap_password:
            raise BounceError(f"{location}: set DIGEST_IMAP_PASSWORD to the IMAP password")
        return ImapSource(location, imap_password)
    if "://" in spec:
        raise BounceError(f"source {spec!r}: expected a Maildir folder, an mbox file or imaps://")
    path = Path(spec).expanduser()
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            return MaildirSource(path)
        raise BounceError(f"{path}: a folder but not a Maildir (no cur/, new/ and tmp/)")
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(5)
        if head and head != b"From ":
            raise BounceError(f"{path}: not an mbox file (it does not start with 'From ')")
        return MboxSource(path)
    raise BounceError(f"{path}: no such Maildir folder or mbox file")
