"""Email addresses: validated and normalised with email-validator, fast enough for long lists.

The stored form is the one key of a subscriber, so two spellings of one mailbox must
normalise alike: the domain is lower-cased (and IDNA-encoded when the local part is ASCII,
so such an address is pure ASCII and needs no SMTPUTF8), and the local part is lower-cased
too, because every large provider treats it case-insensitively and two rows for one person
would mean two copies of every edition. Only a non-ASCII local part needs SMTPUTF8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from subscribers.errors import InvalidSubscriber

#: ASCII addresses up to this length take the two-half path below (well inside 254).
FAST_PATH_MAX = 200
#: An RFC 5322 dot-atom: email-validator accepts every such ASCII local part as it is.
_ATEXT = r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]"
DOT_ATOM = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*\Z")
#: How many domains' verdicts one validator remembers before starting afresh.
DOMAIN_CACHE_MAX = 50_000


@dataclass(frozen=True)
class Address:
    email: str
    #: The address needs SMTPUTF8 (non-ASCII local part).
    smtputf8: bool


def shown(value: str, limit: int = 80) -> str:
    """A value quoted for an error line: one line, bounded length."""
    text = value if len(value) <= limit else value[:limit] + "…"
    return repr(text)


class AddressValidator:
    """Checks addresses; remembers each domain's verdict so a list checks a domain once.

    email-validator spends most of its time on the domain, and a subscriber list has few
    distinct domains. A short ASCII address whose local part is a plain dot-atom (which
    email-validator accepts as it is) has only its domain checked, once per validator;
    anything else, and every failure, goes through one full `validate_email` call, so what
    is accepted and every error message are exactly the library's. With
    `check_deliverability`, each domain is looked up in DNS once.
    """

    def __init__(self, *, check_deliverability: bool = False) -> None:
        self.check_deliverability = check_deliverability
        #: ASCII (IDNA) form of each domain seen, None if it is not a valid domain.
        self._domains: dict[str, str | None] = {}
        #: Why a domain is not deliverable (None: it is), per ASCII domain.
        self._undeliverable: dict[str, str | None] = {}

    def check(self, value: str | None) -> Address:
        """The normalised address; InvalidSubscriber("email", ...) if it is not one."""
        text = (value or "").strip()
        if not text:
            raise InvalidSubscriber("email", "missing")
        address = None
        if text.isascii() and len(text) <= FAST_PATH_MAX:
            address = self._check_in_halves(text)
        if address is None:
            address = self._check_whole(text)
        if self.check_deliverability:
            domain = address.email.rpartition("@")[2]
            reason = self._deliverability(domain)
            if reason is not None:
                raise InvalidSubscriber("email", f"{shown(text)} is not deliverable: {reason}")
        return address

    def _check_in_halves(self, text: str) -> Address | None:
        local, at, domain = text.rpartition("@")
        if not at or not DOT_ATOM.match(local) or not domain:
            return None
        key = domain.lower()
        if key not in self._domains:
            if len(self._domains) >= DOMAIN_CACHE_MAX:
                self._domains.clear()
            try:
                info = validate_email(f"postmaster@{domain}", check_deliverability=False)
                self._domains[key] = info.ascii_domain.lower()
            except EmailNotValidError:
                self._domains[key] = None
        ascii_domain = self._domains[key]
        if ascii_domain is None:
            return None
        return Address(f"{local.lower()}@{ascii_domain}", smtputf8=False)

    def _deliverability(self, domain: str) -> str | None:
        if domain not in self._undeliverable:
            if len(self._undeliverable) >= DOMAIN_CACHE_MAX:
                self._undeliverable.clear()
            try:
                validate_email(f"postmaster@{domain}", check_deliverability=True)
                self._undeliverable[domain] = None
            except EmailNotValidError as e:
                self._undeliverable[domain] = str(e)
        return self._undeliverable[domain]

    @staticmethod
    def _check_whole(text: str) -> Address:
        try:
            info = validate_email(text, check_deliverability=False)
        except EmailNotValidError as e:
            raise InvalidSubscriber("email", f"{shown(text)} is not a valid address: {e}") from None
        if info.ascii_email:
            return Address(info.ascii_email.lower(), smtputf8=False)
        return Address(f"{str(info.local_part).lower()}@{info.domain.lower()}", smtputf8=True)
