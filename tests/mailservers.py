"""Real mail servers for the bounce tests: Postfix (DSNs) and Dovecot (IMAP), on loopback.

Each runs from a configuration written into a fresh folder, on a free 127.0.0.1 port,
and is stopped afterwards; nothing touches the machine's own mail configuration. They
need the Debian packages `postfix` and `dovecot-imapd` (`.ci/run` installs them); a
missing one skips the test locally and fails it under CI.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Local domain whose unknown users Postfix bounces (5.1.1 from local(8)).
UNKNOWN_DOMAIN = "gone.example.com"
#: Domain whose every address Postfix delivers into one Maildir: where bounces arrive.
BOUNCE_DOMAIN = "bounces.test"
#: Domain Postfix refuses by policy after accepting (a 5.7.1 DSN: never a bounce).
POLICY_DOMAIN = "policy.example.com"
#: Domain whose mailboxes are full: Postfix defers and soon sends a delay warning DSN.
FULL_DOMAIN = "full.example.com"


def need(program: str, package: str) -> str:
    """The program's path; skip (fail under CI) when its package is missing."""
    found = shutil.which(program) or (program if Path(program).exists() else None)
    if found is None:
        message = f"{program} not installed (Debian package {package}; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, log: Path, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    raise RuntimeError(f"server on port {port} did not start:\n{text[-2000:]}")


def _open_folder() -> Path:
    """A folder every daemon user can traverse (pytest's tmp_path is 0700 to root)."""
    folder = Path(tempfile.mkdtemp(prefix="digest-mail-"))
    folder.chmod(0o755)
    return folder


def _mail_user() -> tuple[int, int]:
    """The uid/gid mail is stored as: `nobody` when we are root, else ourselves."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid
    return os.getuid(), os.getgid()


@dataclass
class Postfix:
    port: int
    #: The Maildir every message to BOUNCE_DOMAIN lands in.
    maildir: Path
    log: Path

    def wait_for_mail(self, count: int, seconds: float = 30.0) -> list[Path]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = sorted((self.maildir / "new").glob("*")) if self.maildir.exists() else []
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(
            f"{count} bounces expected in {self.maildir}; log:\n{self.log.read_text()[-3000:]}"
        )


@contextmanager
def postfix() -> Iterator[Postfix]:
    """A private Postfix instance: accepts on 127.0.0.1, bounces unknown local users and
    policy.test, and delivers every DSN to bounces.test into one Maildir."""
    binary = need("/usr/sbin/postfix", "postfix")
    if os.geteuid() != 0:
        message = "a private Postfix instance needs root (CI runs as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = _open_folder()
    port = free_port()
    uid, gid = _mail_user()
    etc, mail = folder / "etc", folder / "mail"
    for sub in (etc, folder / "queue", folder / "data", mail):
        sub.mkdir()
    shutil.chown(folder / "data", "postfix")
    shutil.chown(mail, uid, gid)
    log = folder / "maillog"
    transports = (
        f"{{ {POLICY_DOMAIN} = error:5.7.1 message refused by local policy }}, "
        f"{{ {FULL_DOMAIN} = retry:4.2.2 mailbox full }}"
    )
    (etc / "main.cf").write_text(
        f"""compatibility_level = 3.6
queue_directory = {folder}/queue
data_directory = {folder}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{UNKNOWN_DOMAIN}
mydomain = {UNKNOWN_DOMAIN}
myorigin = {UNKNOWN_DOMAIN}
mydestination = {UNKNOWN_DOMAIN}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = {BOUNCE_DOMAIN}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = static:bounces/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
transport_maps = inline:{{ {transports} }}
delay_warning_time = 1s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
default_transport = error:5.4.4 no mail leaves this test machine
recipient_delimiter = +
smtpd_reject_unlisted_recipient = no
maillog_file = {log}
maillog_file_prefixes = {folder}
smtputf8_enable = no
biff = no
"""
    )
    master = Path("/usr/share/postfix/master.cf.dist").read_text()
    lines = [
        f"127.0.0.1:{port} inet n - n - - smtpd" if line.startswith("smtp      inet") else line
        for line in master.splitlines()
    ]
    (etc / "master.cf").write_text("\n".join(lines) + "\n")
    errors = folder / "start.err"
    with errors.open("wb") as error_file:  # not a pipe: the daemon would hold it open
        started = subprocess.run(
            [binary, "-c", str(etc), "start"],
            stdout=subprocess.DEVNULL,
            stderr=error_file,
            check=False,
        )
    try:
        if started.returncode != 0:
            raise RuntimeError(f"postfix did not start: {errors.read_text()}")
        _wait_for_port(port, log)
        yield Postfix(port, mail / "bounces", log)
    finally:
        subprocess.run(
            [binary, "-c", str(etc), "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Dovecot:
    port: int
    user: str
    password: str
    #: The user's Maildir, as Dovecot stores it.
    maildir: Path
    tls_port: int | None = None

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            for raw in messages:
                status, data = client.append(folder, None, None, raw)
                assert status == "OK", data
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> dict[bytes, bytes]:
        """Message-ID -> the FLAGS of each message in the folder."""
        client = self.client()
        try:
            client.select(folder)
            _status, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            found: dict[bytes, bytes] = {}
            for item in data:
                if isinstance(item, tuple):
                    message_id = item[1].split(b":", 1)[1].strip()
                    found[message_id] = item[0]
            return found
        finally:
            client.logout()


@contextmanager
def dovecot(tls: tuple[Path, Path] | None = None) -> Iterator[Dovecot]:
    """A private Dovecot IMAP server for one user on 127.0.0.1.

    `tls` = (certificate chain PEM, key PEM) adds an imaps listener."""
    binary = need("/usr/sbin/dovecot", "dovecot-imapd")
    folder = _open_folder()
    port = free_port()
    tls_port = free_port() if tls else None
    uid, gid = _mail_user()
    user, password = "bounces", "imap-test-password"
    for sub in ("run", "state", "home"):
        (folder / sub).mkdir()
    shutil.chown(folder / "home", uid, gid)
    (folder / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    if os.geteuid() == 0:
        users = ""
    else:
        me = pwd.getpwuid(os.getuid()).pw_name
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    ssl = "ssl = no"
    if tls:
        ssl = f"ssl = yes\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}"
    log = folder / "dovecot.log"
    config = folder / "dovecot.conf"
    config.write_text(
        f"""{users}base_dir = {folder}/run
state_dir = {folder}/state
log_path = {log}
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port or 0}
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
"""
    )
    errors = folder / "start.err"
    with errors.open("wb") as error_file:  # not a pipe: the daemon would hold it open
        started = subprocess.run(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=error_file, check=False
        )
    try:
        if started.returncode != 0:
            raise RuntimeError(f"dovecot did not start: {errors.read_text()}")
        _wait_for_port(port, log)
        yield Dovecot(port, user, password, folder / "home" / user / "Maildir", tls_port)
    finally:
        pid_file = folder / "run" / "master.pid"
        with suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int(pid_file.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.05)
        shutil.rmtree(folder, ignore_errors=True)
