"""The circuit breaker: the same relay-wide refusal for N recipients in a row stops the run.

A quota answer (`554 5.4.5`) or `554 5.7.1 relay access denied` is about our account or
relay, not about the recipients: sending on would fail the whole list. The refusals that
tripped the breaker go back to pending, so a later run resumes with them; a single
refusal that trips nothing is final (RFC 3463 class 5 is permanent for that message).
Two refusals are "the same" when code and enhanced code match (texts often name the
recipient). A delivered message, a bad address or another refusal breaks the streak,
but only when its transaction began after the refusals it breaks came back (see
`CircuitBreaker`): messages already under way cannot tell whether the relay still works. A run
with fewer deliveries than the threshold trips when every one of them is refused alike
(`breaker_threshold`): a relay that refuses a small list whole refuses the list.

A refusal of our sender's address (X.1.7, X.1.8, `Reply.about_sender`) trips it at once:
every message of the run carries that sender. And *address* replies ("550 5.1.1 User
unknown") form streaks too, by the same rule with a longer threshold
(`address_threshold`): a relay that answers every recipient alike is misconfigured or
over a limit, and its readers are not to blame. Until its streak is decided such a
reply is `held`: its delivery is recorded failed, but the subscriber's bounce is
counted only once a later transaction went past it (or the run ends short of the
threshold); when the streak trips, it goes back to pending and counts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digest.delivery.classify import Reply
from digest.delivery.results import DrainResult, Entry
from digest.models import DeliveryStatus, FailureKind

#: Identical *address* replies for this many different recipients in a row are the
#: relay's, not the readers' (or `mail.circuit_breaker`, when that is larger). Longer
#: than the refusal streak because bad addresses are real and a relay that checks
#: recipients words each refusal alike: with a hard-bounce rate p, a list of L readers
#: shows about L * p**N such runs by chance. At a stale list's p = 10% and L = 1,000,000,
#: N = 5 gives about 10 false trips, each one stopping the send (and, since its readers
#: go back to pending and are tried first, the next run too); N = 10 gives 1e-4. The
#: cost of the longer streak is nothing: the readers a faulty relay refused meanwhile go
#: back to pending with the rest.
ADDRESS_STREAK = 10
#: A run needs at least this many identical address replies to blame the relay, however
#: small it is: two readers with dead addresses side by side are too common.
ADDRESS_STREAK_MIN = 3


def breaker_threshold(configured: int, deliveries: int) -> int:
    """The streak that trips the breaker in a run of `deliveries` due deliveries:
    `mail.circuit_breaker` (0: never), or all of them when there are fewer."""
    if not configured:
        return 0
    return min(configured, deliveries) if deliveries > 0 else configured


def address_threshold(configured: int, deliveries: int) -> int:
    """The streak of identical address replies that trips the breaker: `ADDRESS_STREAK`
    (or `mail.circuit_breaker` when larger; 0: never), all of a smaller run, but never
    fewer than `ADDRESS_STREAK_MIN`."""
    if not configured:
        return 0
    return max(breaker_threshold(max(configured, ADDRESS_STREAK), deliveries), ADDRESS_STREAK_MIN)


def streak_key(reply: Reply, kind: FailureKind | None, email: str) -> str:
    """What makes two refusals "the same": code and enhanced code (`Reply.refusal`); for
    an address reply also its text with the recipient's address left out (a relay at
    fault words every one alike; different mail systems refusing real bad addresses do
    not)."""
    if kind != FailureKind.ADDRESS:
        return reply.refusal
    text = " ".join(reply.text.lower().split())
    return f"address {reply.refusal} {text.replace(email.lower(), '<rcpt>')}"


@dataclass
class CircuitBreaker:
    """`threshold` identical refusals in a row trip it, `address_threshold` identical
    address replies for different recipients, one refusal of our sender's address (0:
    never).

    "In a row" is the relay's order as far as it can be known: over several connections
    replies come back in any order, and a message the relay accepted at RCPT just before
    its quota ran out may finish DATA after the first refusals (RFC 5321 §3.3 orders
    replies only within one connection). So an outcome breaks only the refusals judged
    before its transaction began (`begin`): the relay took that transaction on after
    refusing them. Outcomes of transactions already under way break nothing, and the
    decision does not depend on how concurrent completions interleave.
    """

    threshold: int
    #: The streak of identical address replies that trips it (0: never).
    address_threshold: int = 0
    #: Outcomes judged so far; `begin` hands this count to a transaction as it starts.
    judged: int = 0
    #: Per refusal (`streak_key`): the refusals no later transaction went past, in
    #: the order they came, each with the count at which it was judged.
    streaks: dict[str, list[tuple[int, Entry]]] = field(default_factory=dict)
    #: The refusals that tripped it.
    streak: list[Entry] = field(default_factory=list)
    #: The reply that tripped it.
    tripped: Reply | None = None
    #: Held address replies found final after they were committed: their subscribers'
    #: bounces are still to be counted (`take_confirmed`).
    confirmed: list[Entry] = field(default_factory=list)

    def begin(self) -> int:
        """Called as a transaction's MAIL FROM goes out: what its outcome may break."""
        return self.judged

    def judge(self, entry: Entry, reply: Reply | None, started: int | None = None) -> bool:
        """Look at one outcome as it is submitted; True when it trips the breaker.

        `started`: `begin()` of its transaction (None: no transaction; breaks nothing).
        After a trip, every refusal of the streak, and each later one, is marked
        `requeue` (back to pending, not failed). An address reply joining a streak is
        marked `held` (its bounce waits for the streak's verdict).
        """
        self.judged += 1
        outcome = entry.outcome
        address = outcome.bounce
        if outcome.status == DeliveryStatus.SENT or (
            address and (reply is None or not self.address_threshold)
        ):
            self._went_past(started, None)  # the relay works
            return False
        if reply is None or not (address or outcome.kind == FailureKind.REFUSED):
            return False
        if self.tripped is not None:
            entry.requeue = True
            return False
        key = streak_key(reply, outcome.kind, entry.email)
        self._went_past(started, key)
        streak = self.streaks.setdefault(key, [])
        streak.append((self.judged, entry))
        entry.held = address
        if address:
            threshold, length = self.address_threshold, len({e.email for _j, e in streak})
        else:
            threshold, length = self.threshold, len(streak)
        if threshold and reply.about_sender:
            threshold = 1
        if not threshold or length < threshold:
            return False
        self.tripped = reply
        self.streak = [refused for _judged, refused in streak]
        return True

    def _went_past(self, started: int | None, key: str | None) -> None:
        """A transaction begun after `started` outcomes ended otherwise than with refusal
        `key`: the refusals of other kinds judged before it began are single ones (final)."""
        if started is None:
            return
        for other, streak in list(self.streaks.items()):
            if other == key:
                continue
            kept = [(judged, entry) for judged, entry in streak if judged > started]
            for judged, entry in streak:
                if judged <= started:
                    self._final(entry)
            streak[:] = kept
            if not streak:
                del self.streaks[other]

    def _final(self, entry: Entry) -> None:
        """A refusal no streak can take back any more: a held address reply's bounce is
        counted with its commit, or with the next one when it was committed already."""
        if entry.held and not entry.requeue:
            entry.held = False
            if entry.counted:
                self.confirmed.append(entry)

    def settle(self) -> None:
        """The run ends: refusals still in a streak short of tripping it are final."""
        for streak in self.streaks.values():
            for _judged, entry in streak:
                self._final(entry)
        self.streaks.clear()

    def take_confirmed(self) -> list[Entry]:
        """The held address replies found final since the last call, for a commit."""
        confirmed, self.confirmed = self.confirmed, []
        return confirmed

    def requeue_streak(self, result: DrainResult) -> list[int]:
        """The streak's deliveries, to go back to pending; counts already made are undone
        (a held address reply's bounce was never counted)."""
        for entry in self.streak:
            if entry.counted:
                result.uncount(entry)
            entry.requeue = True
            entry.held = False
        return [entry.outcome.delivery_id for entry in self.streak]
