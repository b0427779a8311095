"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): exactly once, whatever fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_send_support import (
    DAY,
    FaultyHandler,
    Received,
    SmtpServer,
    add_subscribers,
    copy_site,
    delivery_states,
    make_template,
    query,
    run_digest,
    set_mail,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Path:
    return make_template(tmp_path_factory.mktemp("template"), backend)


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    folder = copy_site(template, tmp_path)
    set_mail(folder, concurrency=4, retry_backoff=0.01, retry_backoff_max=0.05)
    return folder


def readers(count: int, domain: str = "example.com") -> list[str]:
    return [f"reader{number:03d}@{domain}" for number in range(count)]


def send(site: Path, server: SmtpServer, *args: str):
    set_mail(site, transport=server.url)
    return run_digest(site, "send", "--date", DAY, "--lang", "en", *args)


def test_every_active_subscriber_gets_exactly_one_copy(site: Path) -> None:
    english = readers(30)
    add_subscribers(site, english)
    add_subscribers(site, ["arabic@example.com"], "ar")
    add_subscribers(site, ["gone@example.com"])
    query(site, "update subscribers set status='unsubscribed' where email='gone@example.com'")
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        result = send(site, server)
        assert result.exit_code == 0, result.output
        assert handler.count() == {address: 1 for address in english}
        assert "30 sent, 0 failed, 0 deferred" in result.stdout
        assert handler.connections <= 4  # connections are reused, not one per message
        again = send(site, server)
    assert again.exit_code == 0
    assert "already sent" in again.stdout
    assert handler.count() == {address: 1 for address in english}
    assert set(delivery_states(site).values()) == {("sent", 1)}
    assert query(site, "select status from editions") == [("sent",)]
    recorded = dict(query(site, "select s.email, d.message_id from deliveries d"
                                " join subscribers s on s.id = d.subscriber_id"))  # fmt: skip
    for message in handler.received:
        assert message.parsed()["Message-ID"] == recorded[message.recipient]


def test_headers_and_mime_structure(site: Path) -> None:
    add_subscribers(site, ["layla@example.com"], names={"layla@example.com": 'ليلى "L" حداد'})
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        assert send(site, server).exit_code == 0
    [received] = handler.received
    raw = received.content
    assert received.sender == "digest@arabpress.example"
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = received.parsed()
    assert message["From"].addresses[0].addr_spec == "digest@arabpress.example"
    to = message["To"].addresses
    assert len(to) == 1 and to[0].display_name == 'ليلى "L" حداد'
    assert to[0].addr_spec == "layla@example.com"
    # The site's name is the From name; the subject is the news.
    assert message["From"].addresses[0].display_name == "Arab Press"
    assert not message["Subject"].startswith("Arab Press")
    assert message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@arabpress.example>")
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == '"Arab Press" <digest.arabpress.example>'
    https, mailto = (part.strip() for part in message["List-Unsubscribe"].split(","))
    assert https.startswith("<https://arabpress.example/u/") and https.endswith(">")
    assert mailto == "<mailto:unsubscribe@arabpress.example?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parts)
    text, html = (part.get_content() for part in parts)
    token_url = https[1:-1]
    assert token_url in text and token_url in html
    assert "%%DIGEST_" not in text + html


def test_transient_failures_and_dropped_connections_are_retried(site: Path) -> None:
    everyone = readers(20)
    add_subscribers(site, everyone)
    handler = FaultyHandler(
        soft={everyone[1]: 2, everyone[7]: 1, everyone[12]: 3},
        drop={everyone[3]: 1, everyone[15]: 2},
    )
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 0, result.output
    assert handler.count() == {address: 1 for address in everyone}
    states = delivery_states(site)
    assert states[everyone[1]] == ("sent", 3)
    assert states[everyone[12]] == ("sent", 4)
    assert states[everyone[15]] == ("sent", 3)
    assert states[everyone[0]] == ("sent", 1)
    assert query(site, "select status from editions") == [("sent",)]


def test_address_failures_count_as_bounces_and_refusals_do_not(site: Path) -> None:
    everyone = readers(10)
    add_subscribers(site, everyone)
    set_mail(site, bounce_threshold=1)
    handler = FaultyHandler(hard={everyone[2], everyone[5]}, hard_data={everyone[8]})
    with SmtpServer(handler) as server:
        result = send(site, server)
        assert result.exit_code == 0, result.output
        assert "7 sent, 3 failed, 0 deferred" in result.stdout
        assert f"failed: {everyone[2]}: 550 5.1.1" in result.stdout
        assert f"failed: {everyone[8]}: 554 5.6.0" in result.stdout
        assert handler.tries[everyone[2]] == 1  # never retried
        assert send(site, server).exit_code == 0  # a rerun sends nothing
    assert handler.count() == {
        a: 1 for a in everyone if a not in (everyone[2], everyone[5], everyone[8])
    }
    states = delivery_states(site)
    assert states[everyone[5]] == ("failed", 1)
    bounced = query(
        site, "select email, status, bounce_count from subscribers where bounce_count > 0"
    )
    # 5.1.1 is the address (a bounce); 5.6.0 refuses the message, not the address.
    assert sorted(bounced) == sorted((everyone[i], "bounced", 1) for i in (2, 5))
    kinds = dict(query(site, "select s.email, d.failure_kind from deliveries d"
                             " join subscribers s on s.id = d.subscriber_id"))  # fmt: skip
    assert (kinds[everyone[2]], kinds[everyone[8]], kinds[everyone[0]]) == (
        "address",
        "refused",
        None,
    )


def test_what_stays_deferred_exits_3_and_the_next_run_sends_it(site: Path) -> None:
    everyone = readers(6)
    add_subscribers(site, everyone)
    set_mail(site, max_attempts=2)
    handler = FaultyHandler(soft={everyone[4]: 1000})
    with SmtpServer(handler) as server:
        first = send(site, server)
        assert first.exit_code == 3, first.output
        assert "1 delivery not sent yet (451 4.7.1 greylisted" in first.stderr
        assert "5 sent, 0 failed, 1 deferred" in first.stdout
        assert handler.tries[everyone[4]] == 2
        assert delivery_states(site)[everyone[4]] == ("deferred", 2)
        assert query(site, "select status from editions") == [("sending",)]
        handler.soft.clear()
        second = send(site, server)
    assert second.exit_code == 0, second.output
    assert "1 sent, 0 failed, 0 deferred" in second.stdout
    assert handler.count() == {address: 1 for address in everyone}
    assert query(site, "select status from editions") == [("sent",)]


def test_an_unsubscribe_during_the_send_is_honoured(site: Path) -> None:
    everyone = readers(30)
    add_subscribers(site, everyone)
    set_mail(site, concurrency=1)
    leaving = everyone[-2]  # claimed with the first batch, its turn comes much later

    def unsubscribe_one(received: Received) -> None:
        if received.recipient == everyone[0]:
            query(site, "update subscribers set status='unsubscribed' where email=?", leaving)

    handler = FaultyHandler(on_message=unsubscribe_one, delay=0.01)
    with SmtpServer(handler) as server:
        result = send(site, server)
    assert result.exit_code == 0, result.output
    assert handler.count() == {address: 1 for address in everyone if address != leaving}
    assert delivery_states(site)[leaving] == ("skipped", 0)
    assert "29 sent, 0 failed, 0 deferred, 1 skipped" in result.stdout


def test_smtputf8_addresses_go_with_smtputf8_and_fail_without_it(site: Path) -> None:
    add_subscribers(site, ["ليلى@example.com", "plain@example.com", "ascii@bücher.example"])
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        first = send(site, server)
    # RFC 6531 §3.2: never sent to a relay without SMTPUTF8; final, not deferred for ever,
    # and not the reader's bounce.
    assert first.exit_code == 0, first.output
    assert "failed: ليلى@example.com: 5.6.7 the address needs SMTPUTF8" in first.stdout
    assert handler.count() == {"plain@example.com": 1, "ascii@xn--bcher-kva.example": 1}
    assert delivery_states(site)["ليلى@example.com"] == ("failed", 1)
    assert query(site, "select status from editions") == [("sent",)]
    assert query(site, "select status, bounce_count from subscribers where email = ?",
                 "ليلى@example.com") == [("active", 0)]  # fmt: skip


def test_a_relay_with_smtputf8_gets_the_utf8_address(site: Path) -> None:
    add_subscribers(site, ["ليلى@example.com"])
    utf8 = FaultyHandler()
    with SmtpServer(utf8, smtputf8=True) as server:
        second = send(site, server)
    assert second.exit_code == 0, second.output
    [received] = utf8.received
    assert received.recipient == "ليلى@example.com"
    assert "SMTPUTF8" in received.mail_options
    assert "\r\nTo: ليلى@example.com\r\n".encode() in received.content  # raw UTF-8 header


def test_dry_run_writes_nothing_and_contacts_no_server(site: Path) -> None:
    add_subscribers(site, readers(5))
    before = query(site, "select count(*) from editions"), query(site, "select * from subscribers")
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        result = send(site, server, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would send 5 messages" in result.stdout
    assert handler.received == [] and handler.connections == 0
    after = query(site, "select count(*) from editions"), query(site, "select * from subscribers")
    assert after == before
    assert query(site, "select count(*) from deliveries") == [(0,)]


def test_a_test_copy_goes_only_to_the_given_address(site: Path) -> None:
    add_subscribers(site, readers(5))
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        result = send(site, server, "--to", "Editor@Example.org", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "test_copies": [
            {"edition": f"{DAY}/en", "to": "editor@example.org", "sent": True, "error": None}
        ]
    }
    assert handler.count() == {"editor@example.org": 1}
    [received] = handler.received
    assert str(received.parsed()["Subject"]).startswith("[TEST] ")
    assert query(site, "select count(*) from deliveries") == [(0,)]
    assert query(site, "select count(*) from editions") == [(0,)]


def test_json_summary(site: Path) -> None:
    everyone = readers(4)
    add_subscribers(site, everyone)
    handler = FaultyHandler(hard={everyone[0]})
    with SmtpServer(handler) as server:
        result = send(site, server, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dry_run"] is False
    [edition] = summary["editions"]
    assert edition["edition"] == f"{DAY}/en"
    assert edition["status"] == "sent"
    assert (edition["created"], edition["sent"], edition["failed"], edition["deferred"]) == (
        4,
        3,
        1,
        0,
    )
    assert edition["remaining"] == 0
    assert edition["failures"] == [
        {"email": everyone[0], "error": f"550 5.1.1 <{everyone[0]}>: mailbox unavailable"}
    ]
    assert edition["transport"] == f"smtp://127.0.0.1:{server.port}"


def test_an_unreachable_relay_leaves_everything_for_the_next_run(site: Path) -> None:
    add_subscribers(site, readers(3))
    set_mail(site, transport="smtp://127.0.0.1:9", max_attempts=2)
    result = run_digest(site, "send", "--date", DAY, "--lang", "en")
    assert result.exit_code == 3, result.output
    assert "cannot connect to 127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.output
    assert set(delivery_states(site).values()) == {("pending", 0)}
    handler = FaultyHandler()
    with SmtpServer(handler) as server:
        assert send(site, server).exit_code == 0
    assert handler.count() == {address: 1 for address in readers(3)}
