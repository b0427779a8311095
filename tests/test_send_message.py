"""The message as sent: DKIM over the unsubscribe headers, and headers that stay valid
whatever the names, URLs and addresses contain."""

from __future__ import annotations

import base64
import email
import email.policy
import mailbox
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest

from digest import placeholders
from digest.errors import ConfigError, SendError
from digest.message import DkimSigner, MessageSkeleton, Recipient
from tests.test_send_support import (
    DAY,
    add_subscribers,
    copy_site,
    make_template,
    run_digest,
    set_mail,
)

WHEN = datetime(2025, 6, 4, 4, tzinfo=UTC)


def skeleton(**overrides: object) -> MessageSkeleton:
    values: dict[str, object] = dict(
        from_address="عرب برس <digest@arabpress.example>",
        subject="عرب برس · الأربعاء: عنوان",
        html=f"<p>{placeholders.GREETING}</p><a href='{placeholders.UNSUBSCRIBE_URL}'>u</a>",
        text=f"{placeholders.GREETING}\n{placeholders.UNSUBSCRIBE_URL}\n",
        list_id="عرب برس <digest.arabpress.example>",
        unsubscribe_mailto="unsubscribe@arabpress.example",
    )
    values.update(overrides)
    return MessageSkeleton(**values)  # type: ignore[arg-type]


def build(recipient: Recipient, **overrides: object) -> bytes:
    return skeleton(**overrides).build(recipient, message_id="<1.x@arabpress.example>", date=WHEN)


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def recipient(**overrides: object) -> Recipient:
    values: dict[str, object] = dict(
        email="layla@example.com",
        name="Layla",
        greeting="Hello",
        unsubscribe_url="https://arabpress.example/u/token",
    )
    values.update(overrides)
    return Recipient(**values)  # type: ignore[arg-type]


def assert_wellformed(raw: bytes) -> None:
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_list_id_with_a_non_ascii_site_name_keeps_its_identifier_readable() -> None:
    message = parse(build(recipient()))
    assert message["List-Id"] == "عرب برس <digest.arabpress.example>"
    assert message["From"].addresses[0].display_name == "عرب برس"


@pytest.mark.parametrize(
    "name",
    [
        "x" * 200,
        "ل" * 200,
        "عبد الرحمن بن عبد العزيز آل سعود",
        "Ann " * 50,
        'a "quoted" \\ name, with; punctuation <and@brackets>',
    ],
)
def test_names_round_trip_exactly(name: str) -> None:
    raw = build(recipient(name=name, greeting=name))
    assert_wellformed(raw)
    assert parse(raw)["To"].addresses[0].display_name == " ".join(name.split())


@pytest.mark.parametrize("name", ["x" * 5000, "ل" * 3000, "Ann " * 1000])
def test_no_header_line_is_longer_than_998_octets(name: str) -> None:
    raw = build(recipient(name=name, greeting=name), subject=name)
    assert_wellformed(raw)
    assert parse(raw)["To"].addresses[0].addr_spec == "layla@example.com"


def test_idn_domains_are_written_in_ascii_without_smtputf8() -> None:
    message = parse(build(recipient(email="reader@bücher.example")))
    assert message["To"].addresses[0].addr_spec == "reader@xn--bcher-kva.example"


def test_a_local_part_that_needs_smtputf8_is_refused_without_it() -> None:
    with pytest.raises(SendError, match="needs SMTPUTF8"):
        build(recipient(email="ليلى@example.com"))
    raw = build(recipient(email="ليلى@example.com", smtputf8=True))
    assert b"To: Layla" in raw or '"Layla" <ليلى@example.com>'.encode() in raw


def test_unsafe_unsubscribe_urls_are_percent_encoded_in_the_header() -> None:
    url = "https://عرب.example/إلغاء/tok en>?x=<1>"
    header = parse(build(recipient(unsubscribe_url=url)))["List-Unsubscribe"]
    first = header.split(",")[0].strip()
    assert first.startswith("<https://xn--") and first.endswith(">")
    assert " " not in first and first.count("<") == 1 and first.count(">") == 1
    assert first.isascii()


def test_extra_header_names_cannot_smuggle_headers() -> None:
    with pytest.raises(SendError):
        skeleton(extra_headers={"X-Ok\r\nBcc": "victim@example.com"})


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """(private key file, the DNS TXT record that publishes its public half)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "1024"],
                   check=True, capture_output=True)  # fmt: skip
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def verify(raw: bytes, record: bytes) -> bool:
    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news._domainkey.arabpress.example."
        return record

    return bool(dkim.verify(raw, dnsfunc=dns))


def test_dkim_signature_covers_the_unsubscribe_headers(dkim_key: tuple[Path, bytes]) -> None:
    key_file, record = dkim_key
    signer = DkimSigner.from_file("news", "arabpress.example", key_file)
    raw = build(recipient(name="ليلى"), dkim=signer)
    assert_wellformed(raw)
    assert verify(raw, record)
    signature = parse(raw)["DKIM-Signature"]
    signed = re.search(r"h=([^;]+)", signature.replace(" ", "")).group(1).lower().split(":")  # type: ignore[union-attr]
    assert {"from", "to", "subject", "list-unsubscribe", "list-unsubscribe-post"} <= set(signed)
    tampered = raw.replace(b"List-Unsubscribe: <https://arabpress.example/u/token>",
                           b"List-Unsubscribe: <https://evil.example/u/token>")  # fmt: skip
    assert tampered != raw and not verify(tampered, record)


def test_a_bad_dkim_key_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="not a usable RSA private key"):
        DkimSigner.from_file("news", "arabpress.example", tmp_path / "bad.pem")
    with pytest.raises(ConfigError, match="does not exist"):
        DkimSigner.from_file("news", "arabpress.example", tmp_path / "missing.pem")


def test_send_signs_with_the_configured_key(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    dkim_key: tuple[Path, bytes],
    backend: str,
) -> None:
    key_file, record = dkim_key
    site = copy_site(make_template(tmp_path_factory.mktemp("template"), backend), tmp_path)
    shutil.copy(key_file, site / "dkim.pem")
    set_mail(site, transport="maildir:outbox", dkim_selector="news", dkim_key_file="dkim.pem")
    add_subscribers(site, ["a@example.com"])
    result = run_digest(site, "send", "--date", DAY, "--lang", "en")
    assert result.exit_code == 0, result.output
    box = mailbox.Maildir(site / "outbox", create=False)
    [key] = box.keys()
    assert verify(box.get_bytes(key), record)
