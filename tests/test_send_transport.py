"""Transports: verified TLS (STARTTLS and smtps://), login, and transport URLs refused
before anything is sent."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from digest.errors import ConfigError
from digest.network import is_loopback
from digest.transport_urls import parse_smtp_url
from tests.test_send_support import (
    DAY,
    FaultyHandler,
    SmtpServer,
    add_subscribers,
    copy_site,
    delivery_states,
    make_template,
    run_digest,
    set_mail,
)

PASSWORD = "s3cret-Pa55"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Path:
    return make_template(tmp_path_factory.mktemp("template"), backend)


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    folder = copy_site(template, tmp_path)
    add_subscribers(folder, ["a@example.com", "b@example.com"])
    set_mail(folder, retry_backoff=0.01, max_attempts=2)
    return folder


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A throwaway CA and a certificate for 127.0.0.1 it signed: (CA file, server context)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *curve, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=digest test CA")  # fmt: skip
    openssl("req", *curve, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=sink")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2",
            "-extfile", "san.ext")  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", context


def send(site: Path, transport: str, env: dict[str, str] | None = None):
    set_mail(site, transport=transport)
    return run_digest(site, "send", "--date", DAY, "--lang", "en", env=env)


def test_starttls_with_a_verified_certificate_and_login(
    site: Path, certificates: tuple[Path, ssl.SSLContext]
) -> None:
    ca_file, context = certificates
    handler = FaultyHandler()
    logins = {"digest@arabpress.example": PASSWORD}
    with SmtpServer(handler, tls_context=context, logins=logins) as server:
        url = f"smtp://digest%40arabpress.example@127.0.0.1:{server.port}"
        result = send(site, url, {"DIGEST_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(ca_file)})
    assert result.exit_code == 0, result.output
    assert handler.count() == {"a@example.com": 1, "b@example.com": 1}
    assert PASSWORD not in result.output


def test_a_wrong_password_is_one_clear_error_and_sends_nothing(
    site: Path, certificates: tuple[Path, ssl.SSLContext]
) -> None:
    ca_file, context = certificates
    handler = FaultyHandler()
    with SmtpServer(handler, tls_context=context, logins={"user": PASSWORD}) as server:
        url = f"smtp://user@127.0.0.1:{server.port}"
        result = send(site, url, {"DIGEST_SMTP_PASSWORD": "wrong", "SSL_CERT_FILE": str(ca_file)})
    assert result.exit_code == 1
    assert result.stderr.startswith("digest: error: 127.0.0.1 refused the login as 'user': 535")
    assert "Traceback" not in result.output and "wrong" not in result.output
    assert handler.received == []
    assert set(delivery_states(site).values()) == {("pending", 0)}


def test_an_unverifiable_certificate_stops_the_send(
    site: Path, certificates: tuple[Path, ssl.SSLContext]
) -> None:
    _ca_file, context = certificates
    handler = FaultyHandler()
    with SmtpServer(handler, tls_context=context) as server:
        result = send(site, server.url)
    assert result.exit_code == 1
    assert "TLS certificate of 127.0.0.1" in result.stderr
    assert "could not be verified" in result.stderr
    assert handler.received == []
    assert set(delivery_states(site).values()) == {("pending", 0)}


def test_tls_off_skips_starttls_on_loopback(
    site: Path, certificates: tuple[Path, ssl.SSLContext]
) -> None:
    _ca_file, context = certificates
    handler = FaultyHandler()
    with SmtpServer(handler, tls_context=context) as server:
        result = send(site, f"{server.url}?tls=off")
    assert result.exit_code == 0, result.output
    assert handler.count() == {"a@example.com": 1, "b@example.com": 1}


def test_smtps_implicit_tls(site: Path, certificates: tuple[Path, ssl.SSLContext]) -> None:
    ca_file, context = certificates
    handler = FaultyHandler()
    with SmtpServer(handler, tls_context=context, implicit_tls=True) as server:
        url = f"smtps://127.0.0.1:{server.port}"
        result = send(site, url, {"SSL_CERT_FILE": str(ca_file)})
        assert result.exit_code == 0, result.output
        assert f"via smtps://127.0.0.1:{server.port}" in result.stdout
    assert handler.count() == {"a@example.com": 1, "b@example.com": 1}


@pytest.mark.parametrize(
    ("transport", "env", "message"),
    [
        ("smtp://relay.example:25?tls=off", {}, "?tls=off is only allowed for a loopback host"),
        ("smtp://user:hunter2@relay.example", {}, "the URL must not contain a password"),
        ("smtp://user@relay.example", {}, "DIGEST_SMTP_PASSWORD is not set"),
        ("smtp://relay.example?starttls=no", {}, "unknown option 'starttls'"),
        ("smtps://relay.example?tls=off", {}, "tls=off contradicts it"),
        ("smtp://:25", {}, "needs a host"),
        ("smtp://relay.example:99999", {}, "invalid port"),
        ("ftp://relay.example", {}, "unsupported transport 'ftp'"),
    ],
)
def test_bad_transports_are_refused_before_anything_happens(
    site: Path, transport: str, env: dict[str, str], message: str
) -> None:
    result = send(site, transport, env)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("digest: error: [mail] transport")
    assert message in result.stderr
    assert "hunter2" not in result.output and "Traceback" not in result.output
    assert delivery_states(site) == {}


def test_smtp_urls() -> None:
    target = parse_smtp_url("smtp://me%40site.example@relay.example")
    assert (target.host, target.port, target.user, target.starttls) == (
        "relay.example",
        587,
        "me@site.example",
        True,
    )
    assert parse_smtp_url("smtps://relay.example").port == 465
    assert parse_smtp_url("smtp://[::1]:2525?tls=off").description == "smtp://[::1]:2525?tls=off"
    assert is_loopback("127.0.0.2") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("relay.example")
    with pytest.raises(ConfigError):
        parse_smtp_url("smtp://10.0.0.1?tls=off")
