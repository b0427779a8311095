"""Every kind of SMTP outcome against a real aiosmtpd on 127.0.0.1 (see shared cases 04, 10)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from digest.delivery.breaker import address_threshold, breaker_threshold, streak_key
from digest.delivery.classify import DATA, END_OF_DATA, MAIL, RCPT, Reply, classify
from digest.models import FailureKind
from tests.test_send_support import (
    DAY,
    FaultyHandler,
    SmtpServer,
    add_subscribers,
    copy_site,
    delivery_states,
    make_template,
    query,
    run_digest,
    set_mail,
)


@pytest.fixture(autouse=True, params=[False, True], ids=["one-by-one", "pipelined"])
def relay_pipelining(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every outcome both ways: without PIPELINING, and with it (RFC 2920)."""
    monkeypatch.setattr(SmtpServer, "pipelining", request.param)
    return bool(request.param)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Path:
    return make_template(tmp_path_factory.mktemp("template"), backend)


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    folder = copy_site(template, tmp_path)
    set_mail(folder, concurrency=2, retry_backoff=0.01, retry_backoff_max=0.05)
    return folder


def readers(count: int) -> list[str]:
    return [f"reader{number}@example.com" for number in range(1, count + 1)]


def send(site: Path, server: SmtpServer, *args: str):
    set_mail(site, transport=server.url)
    return run_digest(site, "send", "--date", DAY, "--lang", "en", *args)


def resume_on_healthy_relay(site: Path) -> dict[str, int]:
    """Send again through a relay that accepts everything; how many copies each got."""
    healthy = FaultyHandler()
    with SmtpServer(healthy) as server:
        resumed = send(site, server)
    assert resumed.exit_code == 0, resumed.output
    return healthy.count()


def bounce_counts(site: Path) -> set[tuple[str, int]]:
    return set(query(site, "select status, bounce_count from subscribers"))


@pytest.mark.parametrize(
    ("code", "text", "stage", "kind"),
    [
        (550, "5.1.1 <a@example.com>: no such user", RCPT, FailureKind.ADDRESS),
        (550, "5.2.1 mailbox disabled", RCPT, FailureKind.ADDRESS),
        (550, "no such user", RCPT, FailureKind.ADDRESS),
        (553, "mailbox name not allowed", RCPT, FailureKind.ADDRESS),
        (554, "5.4.5 Daily sending quota exceeded", END_OF_DATA, FailureKind.REFUSED),
        (554, "5.7.1 <a@example.com>: Relay access denied", RCPT, FailureKind.REFUSED),
        (552, "5.3.4 message too big", END_OF_DATA, FailureKind.REFUSED),
        (550, "5.5.1 protocol error", DATA, FailureKind.REFUSED),
        (550, "message refused", END_OF_DATA, FailureKind.REFUSED),
        (552, "5.2.2 mailbox full", RCPT, FailureKind.REFUSED),
        (451, "4.7.1 greylisted", RCPT, FailureKind.TRANSIENT),
        (553, "5.1.8 sender domain unknown", MAIL, FailureKind.REFUSED),
        (550, "sender rejected", MAIL, FailureKind.REFUSED),
        (451, "4.3.0 try later", MAIL, FailureKind.TRANSIENT),
        (421, "4.7.0 closing", RCPT, FailureKind.TRANSIENT),
        # Exim's default wording: no enhanced code, but the relay refuses us
        (550, "relay not permitted", RCPT, FailureKind.REFUSED),
        (550, "Relaying denied. Proper authentication required.", RCPT, FailureKind.REFUSED),
        (550, "authentication required", RCPT, FailureKind.REFUSED),
        # the enhanced code on a later line of a multi-line reply
        (550, "Sorry, we do not take this\n5.7.1 relay access denied", RCPT, FailureKind.REFUSED),
        (550, "Sorry\n5.1.1 no such user here", RCPT, FailureKind.ADDRESS),
        # X.1.7 and X.1.8 are the sender's address (RFC 3463 §3.2), at any command
        (
            553,
            "5.1.8 <news@bugle.example>: Sender address rejected: Domain not found",
            RCPT,
            FailureKind.REFUSED,
        ),
        (550, "5.1.7 bad sender's mailbox address syntax", RCPT, FailureKind.REFUSED),
        (554, "5.1.8 bad sender's system address", END_OF_DATA, FailureKind.REFUSED),
        # a sending limit worded without an enhanced code is our account's
        (550, "Daily message limit exceeded, try again tomorrow", RCPT, FailureKind.REFUSED),
        (550, "too many messages from this account today", RCPT, FailureKind.REFUSED),
    ],
)
def test_replies_are_classified_by_code_and_enhanced_code(
    code: int, text: str, stage: str, kind: FailureKind
) -> None:
    reply = Reply(code, text, stage)
    assert reply.kind is kind
    assert classify(code, reply.enhanced, stage, text) is kind


def test_two_refusals_are_the_same_when_code_and_enhanced_code_match() -> None:
    first = Reply(554, "5.7.1 <a@example.com>: Relay access denied", RCPT)
    second = Reply(554, "5.7.1 <b@example.com>: Relay access denied", RCPT)
    assert first.refusal == second.refusal == "554 5.7.1"
    assert Reply(554, "5.4.5 quota", END_OF_DATA).refusal != first.refusal


def test_two_address_replies_are_the_same_when_only_the_recipient_differs() -> None:
    """A relay at fault words every refusal alike; real mail systems refusing real bad
    addresses mostly do not (their texts differ beyond the address)."""
    first = Reply(550, "5.1.1 <a@example.com>: mailbox unavailable", RCPT)
    second = Reply(550, "5.1.1 <B@example.com>: mailbox unavailable", RCPT)
    other = Reply(550, "5.1.1 The account b@example.com does not exist (id 7f3a)", RCPT)
    key = streak_key(first, FailureKind.ADDRESS, "a@example.com")
    assert key == "address 550 5.1.1 5.1.1 <<rcpt>>: mailbox unavailable"
    assert streak_key(second, FailureKind.ADDRESS, "b@example.com") == key
    assert streak_key(other, FailureKind.ADDRESS, "b@example.com") != key
    assert streak_key(first, FailureKind.REFUSED, "a@example.com") == "550 5.1.1"


@pytest.mark.parametrize(
    ("configured", "deliveries", "refused", "address"),
    [(5, 1000, 5, 10), (5, 8, 5, 8), (5, 2, 2, 3), (20, 1000, 20, 20), (0, 1000, 0, 0)],
)
def test_the_address_streak_is_longer_and_never_below_three(
    configured: int, deliveries: int, refused: int, address: int
) -> None:
    assert breaker_threshold(configured, deliveries) == refused
    assert address_threshold(configured, deliveries) == address


@pytest.mark.parametrize(
    "fault",
    [
        {"data_reply": "554 5.4.5 Daily sending quota exceeded for this account"},
        {"rcpt_reply": "554 5.7.1 <reader@example.com>: Relay access denied"},
    ],
    ids=["quota-5.4.5-at-DATA", "relay-denied-5.7.1-at-RCPT"],
)
def test_a_relay_wide_refusal_trips_the_breaker_and_bounces_nobody(
    site: Path, fault: dict[str, str]
) -> None:
    """Case 04: three mornings of a refusing relay must not make the list 'bounced'."""
    everyone = readers(8)
    add_subscribers(site, everyone)
    reply = next(iter(fault.values()))
    for day in (DAY, DAY, DAY):
        handler = FaultyHandler(**fault)  # type: ignore[arg-type]
        with SmtpServer(handler) as server:
            set_mail(site, transport=server.url)
            result = run_digest(site, "send", "--date", day, "--lang", "en")
        assert result.exit_code == 4, result.output
        [line] = [line for line in result.stderr.splitlines() if "refused" in line]
        assert reply in line and "pending" in line
        assert "Traceback" not in result.output
        assert {status for status, _tries in delivery_states(site).values()} == {"pending"}
        assert bounce_counts(site) == {("active", 0)}
        assert query(site, "select status from editions") == [("sending",)]
    assert resume_on_healthy_relay(site) == {address: 1 for address in everyone}
    assert query(site, "select status from editions") == [("sent",)]


def test_a_list_smaller_than_the_breaker_refused_whole_trips_it(site: Path) -> None:
    """Three readers, a breaker of 5: a relay refusing all three alike refuses the list;
    they stay pending (exit 4) rather than fail for good with the edition 'sent'."""
    everyone = readers(3)
    add_subscribers(site, everyone)
    handler = FaultyHandler(rcpt_reply="554 5.7.1 <reader@example.com>: Relay access denied")
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 4, result.output
    assert {status for status, _tries in delivery_states(site).values()} == {"pending"}
    assert bounce_counts(site) == {("active", 0)}
    [line] = [line for line in result.stderr.splitlines() if "circuit breaker" in line]
    assert "refused 3 recipients in a row" in line, line


def test_the_breaker_needs_that_many_refusals_in_a_row(site: Path) -> None:
    everyone = readers(6)
    add_subscribers(site, everyone)
    set_mail(site, concurrency=1, circuit_breaker=3)
    handler = FaultyHandler(hard_data={everyone[0], everyone[1], everyone[3], everyone[4]})
    with SmtpServer(handler) as server:
        result = send(site, server, "--json")
    # refused, refused, sent, refused, refused, sent: never three in a row.
    assert result.exit_code == 0, result.output
    [edition] = json.loads(result.stdout)["editions"]
    assert (edition["sent"], edition["failed"], edition["circuit_breaker"]) == (2, 4, None)
    assert bounce_counts(site) == {("active", 0)}


@pytest.mark.parametrize("round_", range(3))
def test_a_quota_reached_mid_send_leaves_every_refused_reader_pending(
    template: Path, tmp_path: Path, round_: int
) -> None:
    """A relay's quota ends at RCPT while messages accepted just before it still finish
    DATA on other connections: their success comes after the first refusals, yet the
    relay refused those too, so the breaker must requeue every one (none `failed`).
    Several rounds, since how the eight connections' replies interleave varies."""
    site = copy_site(template, tmp_path)
    set_mail(site, concurrency=8, retry_backoff=0.01, retry_backoff_max=0.05)
    everyone = readers(100)
    add_subscribers(site, everyone)
    quota = FaultyHandler(rcpt_quota=30)
    with SmtpServer(quota) as server:
        stopped = send(site, server)
    assert stopped.exit_code == 4, stopped.output
    states = delivery_states(site)
    sent = {address for address, (status, _tries) in states.items() if status == "sent"}
    assert sent == set(quota.count()) and len(sent) == 30
    unsent = {status for address, (status, _tries) in states.items() if address not in sent}
    assert unsent == {"pending"}, Counter(status for status, _tries in states.values())
    assert f"{100 - len(sent)} deliveries left pending" in stopped.stderr, stopped.stderr
    assert bounce_counts(site) == {("active", 0)}
    assert resume_on_healthy_relay(site) == {
        address: 1 for address in everyone if address not in sent
    }
    assert {status for status, _tries in delivery_states(site).values()} == {"sent"}


@pytest.mark.parametrize(
    ("fault", "tripped", "most_tried"),
    [
        (
            {
                "rcpt_reply": "553 5.1.8 <digest@example.com>: Sender address rejected: Domain "
                "not found"
            },
            "the relay refused our sender's address: 553 5.1.8",
            2,  # one per connection: the first refusal stops the run
        ),
        ({"rcpt_reply": "550 5.1.1 User unknown"}, "refused 8 recipients in a row: 550 5.1.1", 8),
        ({"hard": set(readers(8))}, "refused 8 recipients in a row: 550 5.1.1", 8),
    ],
    ids=["sender-5.1.8", "same-5.1.1-for-all", "same-5.1.1-naming-each"],
)
def test_every_recipient_refused_alike_at_rcpt_is_the_relays_fault(
    site: Path, fault: dict[str, object], tripped: str, most_tried: int
) -> None:
    """A reply about our sender trips the breaker at once; the same address reply for
    every reader of the run trips it too: all pending, exit 4, nobody's bounce counted."""
    everyone = readers(8)
    add_subscribers(site, everyone)
    set_mail(site, bounce_threshold=1)
    for _morning in range(3):
        handler = FaultyHandler(**fault)  # type: ignore[arg-type]
        with SmtpServer(handler) as server:
            result = send(site, server)
        assert result.exit_code == 4, result.output
        assert 1 <= sum(handler.tries.values()) <= most_tried
        [line] = [line for line in result.stderr.splitlines() if "circuit breaker" in line]
        assert tripped in line, line
        assert "8 deliveries left pending, nobody's bounce count changed" in line, line
        states = delivery_states(site)
        assert {address: status for address, (status, _tries) in states.items()} == {
            address: "pending" for address in everyone
        }
        assert bounce_counts(site) == {("active", 0)}
        assert query(site, "select status from editions") == [("sending",)]
    assert resume_on_healthy_relay(site) == {address: 1 for address in everyone}


@pytest.mark.parametrize(
    ("quota_reply", "streak"),
    [("550 5.1.1 User unknown", 10), ("550 Daily message limit exceeded, try again tomorrow", 5)],
    ids=["address-reply", "limit-without-enhanced-code"],
)
def test_a_limit_reached_mid_send_with_an_address_like_reply_blames_nobody(
    template: Path, tmp_path: Path, quota_reply: str, streak: int
) -> None:
    """A relay whose daily limit ends partway answers every later RCPT alike, worded as
    if the address were bad: those readers go back to pending, none is counted."""
    site = copy_site(template, tmp_path)
    set_mail(site, concurrency=4, retry_backoff=0.01, retry_backoff_max=0.05)
    everyone = readers(60)
    add_subscribers(site, everyone)
    quota = FaultyHandler(rcpt_quota=20, quota_reply=quota_reply)
    with SmtpServer(quota) as server:
        stopped = send(site, server)
    assert stopped.exit_code == 4, stopped.output
    assert f"refused {streak} recipients in a row: {quota_reply}" in stopped.stderr
    states = delivery_states(site)
    sent = {address for address, (status, _tries) in states.items() if status == "sent"}
    assert sent == set(quota.count()) and len(sent) == 20
    assert {states[address][0] for address in everyone if address not in sent} == {"pending"}
    assert bounce_counts(site) == {("active", 0)}


def test_bad_addresses_side_by_side_still_count_as_bounces(site: Path) -> None:
    """Fewer identical address replies in a row than the streak needs: each is the
    reader's, counted once, including the two the run ends with."""
    everyone = readers(12)
    add_subscribers(site, everyone)
    set_mail(site, concurrency=1)
    bad = {everyone[3], everyone[4], everyone[5], everyone[10], everyone[11]}
    handler = FaultyHandler(hard=bad)
    with SmtpServer(handler) as server:
        result = send(site, server, "--json")
    assert result.exit_code == 0, result.output
    [edition] = json.loads(result.stdout)["editions"]
    assert (edition["sent"], edition["failed"], edition["circuit_breaker"]) == (7, 5, None)
    assert set(query(site, "select email, bounce_count from subscribers")) == {
        (address, int(address in bad)) for address in everyone
    }
    assert query(site, "select status from editions") == [("sent",)]


def test_one_bad_address_fails_and_counts_as_a_bounce(site: Path) -> None:
    everyone = readers(6)
    add_subscribers(site, everyone)
    handler = FaultyHandler(hard={everyone[2]})
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 0, result.output
    assert f"failed: {everyone[2]}: 550 5.1.1" in result.stdout
    assert delivery_states(site)[everyone[2]] == ("failed", 1)
    assert query(site, "select bounce_count from subscribers where email = ?", everyone[2]) == [
        (1,)
    ]
    assert handler.count() == {a: 1 for a in everyone if a != everyone[2]}


def test_a_slow_final_reply_within_data_timeout_gives_exactly_one_copy(site: Path) -> None:
    everyone = readers(3)
    add_subscribers(site, everyone)
    # Timeouts wide enough that a loaded machine never times out a command before DATA
    # (which would be a transient failure and a second attempt, not what is tested here).
    set_mail(site, timeout=1.0, data_timeout=8.0)
    handler = FaultyHandler(data_delay=2.0)  # past the command timeout
    with SmtpServer(handler) as server:
        result = send(site, server)
        assert result.exit_code == 0, result.output
        assert send(site, server).exit_code == 0
    assert handler.count() == {address: 1 for address in everyone}
    assert set(delivery_states(site).values()) == {("sent", 1)}


@pytest.mark.parametrize("fault", ["cut", "silent"])
def test_a_lost_reply_after_the_final_dot_is_uncertain_and_not_resent(
    site: Path, fault: str
) -> None:
    everyone = readers(4)
    add_subscribers(site, everyone)
    doubtful = everyone[1]
    if fault == "cut":
        handler = FaultyHandler(cut_after_dot={doubtful})
    else:
        set_mail(site, timeout=1.0, data_timeout=1.5)
        handler = FaultyHandler(data_delay=4.0)
    with SmtpServer(handler) as server:
        first = send(site, server)
        assert first.exit_code == 0, first.output
        assert "uncertain" in first.stdout
        states = delivery_states(site)
        assert states[doubtful] == ("uncertain", 1)
        assert query(site, "select status from editions") == [("sent",)]  # complete
        again = send(site, server)
        assert again.exit_code == 0 and "already sent" in again.stdout
        shown = run_digest(site, "editions", "show", f"{DAY}/en")
        assert f"uncertain: {doubtful}" in shown.stdout
        assert "--resend-uncertain" in shown.stdout
        received_before = handler.count()
        if fault == "silent":
            handler.data_delay = 0.0
        handler.cut_after_dot.clear()
        resend = send(site, server, "--resend-uncertain")
    assert resend.exit_code == 0, resend.output
    resent = {a for a, n in handler.count().items() if n > received_before.get(a, 0)}
    uncertain_before = {a for a, (status, _n) in states.items() if status == "uncertain"}
    assert resent == uncertain_before
    assert all(status == "sent" for status, _tries in delivery_states(site).values())


def test_resending_the_uncertain_sends_no_reader_who_joined_after_the_edition(
    site: Path,
) -> None:
    """`--resend-uncertain` on a complete edition resends the uncertain deliveries and
    nothing else: a reader added since is not that edition's audience, just as a plain
    rerun says "already sent" and sends them nothing."""
    everyone = readers(4)
    add_subscribers(site, everyone)
    doubtful = everyone[1]
    handler = FaultyHandler(cut_after_dot={doubtful})
    with SmtpServer(handler) as server:
        first = send(site, server)
        assert first.exit_code == 0, first.output
        assert query(site, "select status from editions") == [("sent",)]
        joined = run_digest(site, "subscribers", "add", "extra1@example.com", "--lang", "en")
        assert joined.exit_code == 0, joined.output
        again = send(site, server)
        assert again.exit_code == 0 and "already sent" in again.stdout, again.output
        received_before = handler.count()
        handler.cut_after_dot.clear()
        resend = send(site, server, "--resend-uncertain")
    assert resend.exit_code == 0, resend.output
    resent = {a for a, n in handler.count().items() if n > received_before.get(a, 0)}
    assert resent == {doubtful}
    assert "extra1@example.com" not in delivery_states(site)
    assert set(delivery_states(site)) == set(everyone)
    assert query(site, "select status from editions") == [("sent",)]


def test_a_421_mid_session_reconnects_and_sends_everyone_once(site: Path) -> None:
    everyone = readers(7)
    add_subscribers(site, everyone)
    set_mail(site, concurrency=1)
    handler = FaultyHandler(close_after=2)
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 0, result.output
    assert handler.count() == {address: 1 for address in everyone}
    assert handler.connections >= 4


def test_no_smtputf8_fails_for_good_without_a_bounce(site: Path) -> None:
    """Case 10: the edition completes; the reader is not bounced."""
    add_subscribers(site, ["reader1@example.com", "ليلى@example.com"])
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        for _run in range(2):
            result = send(site, server)
            assert result.exit_code == 0, result.output
    assert handler.count() == {"reader1@example.com": 1}
    assert delivery_states(site)["ليلى@example.com"] == ("failed", 1)
    assert query(
        site, "select failure_kind from deliveries where last_error like '%SMTPUTF8%'"
    ) == [("refused",)]
    assert query(site, "select status from editions") == [("sent",)]
    assert bounce_counts(site) == {("active", 0)}


@pytest.mark.parametrize(
    "reply",
    ["554 5.7.1 Sender address rejected: not owned by user", "553 5.1.8 Sender domain unknown"],
    ids=["policy-5.7.1", "sender-domain-5.1.8"],
)
def test_a_sender_refused_at_mail_trips_the_breaker_and_bounces_nobody(
    site: Path, reply: str
) -> None:
    """A 5xx to MAIL FROM refuses our sender, not the reader: kind 2, exit 4, all pending."""
    everyone = readers(8)
    add_subscribers(site, everyone)
    handler = FaultyHandler(mail_reply=reply)
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.stderr.splitlines() if "refused" in line]
    assert reply in line and "pending" in line
    assert {status for status, _tries in delivery_states(site).values()} == {"pending"}
    assert bounce_counts(site) == {("active", 0)}
    assert handler.count() == {}
    with SmtpServer(FaultyHandler()) as server:
        resumed = send(site, server)
    assert resumed.exit_code == 0, resumed.output
    assert query(site, "select status from editions") == [("sent",)]


def test_one_sender_refusal_at_mail_fails_that_delivery_only(site: Path) -> None:
    """Below the breaker's threshold a refusal at MAIL is final for that delivery."""
    everyone = readers(4)
    add_subscribers(site, everyone)
    set_mail(site, concurrency=1)
    handler = FaultyHandler(mail_reply="550 5.7.1 Sender rejected by policy", mail_reply_limit=1)
    with SmtpServer(handler) as server:
        result = send(site, server, "--json")
    assert result.exit_code == 0, result.output
    [edition] = json.loads(result.stdout)["editions"]
    assert (edition["sent"], edition["failed"]) == (3, 1)
    assert query(site, "select failure_kind from deliveries where status = 'failed'") == [
        ("refused",)
    ]
    assert bounce_counts(site) == {("active", 0)}
    assert sum(handler.count().values()) == 3


def test_a_4xx_at_mail_is_transient_and_everyone_gets_one_copy(site: Path) -> None:
    everyone = readers(5)
    add_subscribers(site, everyone)
    handler = FaultyHandler(mail_reply="451 4.3.0 Temporary lookup failure", mail_reply_limit=3)
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 0, result.output
    assert handler.count() == {address: 1 for address in everyone}
    assert set(delivery_states(site).values()) <= {
        ("sent", 1),
        ("sent", 2),
        ("sent", 3),
        ("sent", 4),
    }
    assert handler.mails_refused == 3
