"""Bounce processing against real servers: DSNs written by Postfix, read over IMAP from
Dovecot (plain on loopback, and imaps with a certificate the test trusts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bounces_support import (
    BOUNCES,
    arf,
    dsn,
    keys_in,
    sent_site,
    unrelated,
)
from tests.conftest import Digest
from tests.mailservers import (
    FULL_DOMAIN,
    POLICY_DOMAIN,
    UNKNOWN_DOMAIN,
    dovecot,
    postfix,
)

GONE = f"nobody-here@{UNKNOWN_DOMAIN}"
ALSO_GONE = f"left-long-ago@{UNKNOWN_DOMAIN}"
REFUSED = f"reader@{POLICY_DOMAIN}"
FULL = f"reader@{FULL_DOMAIN}"

pytestmark = pytest.mark.usefixtures("database_env")


@pytest.mark.parametrize("verp", [True, False], ids=["verp", "message-id"])
def test_real_postfix_bounces(digest: Digest, tmp_path: Path, verp: bool) -> None:
    """Postfix accepts, then bounces unknown users (5.1.1) and a policy refusal (5.7.1),
    and warns of a delay for a full mailbox (4.2.2, a soft bounce)."""
    with postfix() as relay:
        digest.env["DIGEST_TRANSPORT"] = f"smtp://127.0.0.1:{relay.port}?tls=off"
        site = sent_site(
            digest,
            tmp_path,
            GONE,
            ALSO_GONE,
            REFUSED,
            FULL,
            bounce_threshold=1,
            soft_bounce_threshold=2,
            verp=verp,
            bounce_address=BOUNCES,
        )
        bounces = relay.wait_for_mail(4)
        maildir = bounces[0].parent.parent
        result = digest.ok("bounces", "process", str(maildir), "--json")
        assert keys_in(maildir) == [] and len(keys_in(maildir / ".Processed", "cur")) == 4
    report = json.loads(result.stdout)
    assert report["hard_bounces"] == 3 and report["soft_bounces"] == 1, report
    assert report["counted"] == 2
    assert site.status(GONE) == ("bounced", 1)
    assert site.status(ALSO_GONE) == ("bounced", 1)
    assert site.status(REFUSED) == ("active", 0)
    assert site.status(FULL) == ("active", 0)
    matched = "verp" if verp else "message-id"
    assert sorted(site.events()) == [
        ("hard", "address", matched, 1, "5.1.1"),
        ("hard", "address", matched, 1, "5.1.1"),
        ("hard", "refused", matched, 0, "5.7.1"),
        ("soft", "transient", matched, 0, "4.2.2"),
    ]


def _imap_site(digest: Digest, tmp_path: Path) -> tuple[object, list[bytes]]:
    site = sent_site(digest, tmp_path, "gone@example.com", "angry@example.com", bounce_threshold=1)
    messages = [
        dsn(site.sent("gone@example.com"), "gone@example.com"),
        arf(site.sent("angry@example.com"), "angry@example.com"),
        unrelated("Quarterly figures"),
    ]
    return site, messages


def test_imap_folder_on_dovecot(digest: Digest, tmp_path: Path) -> None:
    site, messages = _imap_site(digest, tmp_path)
    with dovecot() as server:
        server.append(*messages)
        digest.env["DIGEST_IMAP_PASSWORD"] = server.password
        source = f"imap://{server.user}@127.0.0.1:{server.port}/INBOX"
        result = digest.ok("bounces", "process", source, "--json")
        report = json.loads(result.stdout)
        assert report["hard_bounces"] == 1 and report["complaints"] == 1, report
        assert report["unrecognised"] == 1
        flags = list(server.flags().values())
        again = json.loads(digest.ok("bounces", "process", source, "--json").stdout)
    assert site.status("gone@example.com") == ("bounced", 1)  # type: ignore[attr-defined]
    assert site.status("angry@example.com")[0] == "complained"  # type: ignore[attr-defined]
    processed = [f for f in flags if b"$DigestProcessed" in f and b"\\Seen" in f]
    untouched = [f for f in flags if b"$DigestProcessed" not in f and b"\\Seen" not in f]
    assert len(processed) == 2 and len(untouched) == 1
    assert again["read"] == 1 and again["unrecognised"] == 1  # only what was left in place


def test_imaps_with_a_verified_certificate(
    digest: Digest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(chain))
    certificate.private_key_pem.write_to_path(str(key))
    chain.chmod(0o644)
    key.chmod(0o644)
    tmp_path.chmod(0o755)
    site, messages = _imap_site(digest, tmp_path)
    with dovecot(tls=(chain, key)) as server:
        server.append(messages[0])
        digest.env["DIGEST_IMAP_PASSWORD"] = server.password
        source = f"imaps://{server.user}@127.0.0.1:{server.tls_port}/INBOX"
        untrusted = digest("bounces", "process", source)
        assert untrusted.exit_code == 1 and "certificate verify failed" in untrusted.stderr
        authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        digest.ok("bounces", "process", source)
        digest.env["DIGEST_IMAP_PASSWORD"] = "wrong"
        refused = digest("bounces", "process", source)
    assert site.status("gone@example.com") == ("bounced", 1)  # type: ignore[attr-defined]
    assert refused.exit_code == 1 and "login refused" in refused.stderr
    assert "wrong" not in refused.stderr
