"""Three kinds of SMTP outcome, from the reply code and its RFC 3463 enhanced code.

- *address* (the recipient's address is bad): 5.1.x (but 5.1.7 and 5.1.8), 5.2.1, or
  550/551/553 at RCPT without an enhanced code (unless the text says relaying is denied,
  as Exim's default "550 relay not permitted" does, or that a sending limit or quota is
  reached), to any command but MAIL. Final, and counts towards `mail.bounce_threshold`,
  unless the same reply for many recipients in a row shows the relay at fault (see
  `breaker`).
- *refused* (the relay refuses us, our account or the message): 5.1.7 and 5.1.8 (the
  *sender's* address, RFC 3463 §3.2), 5.3.x size, 5.4.x routing and quota, 5.5.x
  protocol, 5.6.x content, 5.7.x policy, any 5xx to MAIL (the sender is refused), and
  any other 5xx. Final, never a bounce; the same refusal for many recipients in a row
  trips the circuit breaker, and a refusal of the sender's address trips it at once.
- *transient*: 4xx (RFC 5321 §4.2.1: try again later).

Sources: RFC 3463 §3 (classes and subjects), RFC 5321 §4.2 (reply codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    """Which kind of SMTP outcome failed a delivery (RFC 3463 enhanced status codes)."""

    #: The address is bad (5.1.x, 5.2.1, or 550/551/553 at RCPT): counts as a bounce.
    ADDRESS = "address"
    #: The relay refused us or the message (5.3/5.4/5.5/5.6/5.7.x): never a bounce.
    REFUSED = "refused"
    #: 4xx, a dropped connection or a timeout before the final ".": deferred.
    TRANSIENT = "transient"


#: An enhanced status code at the start of a line of the reply text: class.subject.detail
#: (a multi-line reply may give it on a later line only: "550-Sorry" "550 5.7.1 ...").
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)", re.MULTILINE)
#: A refusal to relay worded without an enhanced code, as Exim words it by default
#: ("550 relay not permitted") and others after it: the relay refuses us, not the
#: address, though RFC 5321 gives 550 to both.
_RELAY_DENIED = re.compile(
    r"\brelay(?:ing)?\b.{0,40}\b(?:denied|not permitted|not allowed|prohibited|refused)\b"
    r"|\b(?:authentication|auth) required\b",
    re.IGNORECASE | re.DOTALL,
)
#: A sending limit worded without an enhanced code ("550 Daily message limit exceeded,
#: try again tomorrow"): our account's quota, not the address.
_LIMIT_REACHED = re.compile(
    r"\b(?:quota|limit|rate)\b.{0,40}\b(?:exceeded|reached|hit)\b"
    r"|\btoo many (?:messages|mails|emails|recipients)\b",
    re.IGNORECASE | re.DOTALL,
)
#: RFC 3463 §3.2: X.1.7 "bad sender's mailbox address syntax" and X.1.8 "bad sender's
#: system address" are about the sender's address, whatever command they answer.
SENDER_STATUSES = frozenset({"1.7", "1.8"})

#: Stages of a transaction a reply can answer.
MAIL, RCPT, DATA, END_OF_DATA = "MAIL", "RCPT", "DATA", "end of DATA"


@dataclass(frozen=True)
class Reply:
    """One server reply: `code` (e.g. 554), its text, and the stage it answered."""

    code: int
    text: str
    stage: str

    @property
    def enhanced(self) -> str | None:
        """The RFC 3463 enhanced status code (`5.4.5`) the first line that has one starts
        with."""
        match = _ENHANCED.search(self.text)
        return ".".join(match.groups()) if match else None

    @property
    def kind(self) -> FailureKind:
        return classify(self.code, self.enhanced, self.stage, self.text)

    @property
    def about_sender(self) -> bool:
        """The enhanced code names the sender's address (X.1.7, X.1.8): no reader's fault,
        and the same for every message of the run."""
        enhanced = self.enhanced
        return enhanced is not None and enhanced.split(".", 1)[1] in SENDER_STATUSES

    @property
    def refusal(self) -> str:
        """What makes two refusals "the same" for the breaker: code and enhanced code."""
        return f"{self.code} {self.enhanced or ''}".strip()

    def __str__(self) -> str:
        return f"{self.code} {' '.join(self.text.split())}".strip()


def classify(code: int, enhanced: str | None, stage: str, text: str = "") -> FailureKind:
    """The kind of a failure reply (`code` >= 400). See the module docstring for the rule;
    `text` is read only for a 5xx without an enhanced code at RCPT (relaying denied, a
    limit reached)."""
    if code < 500:
        return FailureKind.TRANSIENT
    if stage == MAIL:
        # MAIL names the sender, not the recipient: even "5.1.8 bad sender domain" says
        # nothing against the reader's address (RFC 3463 §3.2: subject 1 is "the
        # address" the command carried).
        return FailureKind.REFUSED
    if enhanced is not None and not enhanced.startswith("5."):
        # A 5xx with a 4.x.x enhanced code contradicts itself; the basic code wins
        # (RFC 3463 §2: the class must match), and it is permanent.
        enhanced = None
    if enhanced is not None:
        _class, subject, detail = enhanced.split(".")
        if f"{subject}.{detail}" in SENDER_STATUSES:
            return FailureKind.REFUSED  # the sender's address, not the recipient's
        if subject == "1" or (subject == "2" and detail == "1"):
            return FailureKind.ADDRESS
        return FailureKind.REFUSED
    if (
        stage == RCPT
        and code in (550, 551, 553)
        and not _RELAY_DENIED.search(text)
        and not _LIMIT_REACHED.search(text)
    ):
        return FailureKind.ADDRESS
    return FailureKind.REFUSED
