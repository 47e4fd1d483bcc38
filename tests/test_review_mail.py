"""The review mailed after the meeting (``review --format eml`` and ``review --send``):
the message, and sending it to a real SMTP server (aiosmtpd) started on 127.0.0.1 with
STARTTLS or TLS and a login."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import html5lib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from store.database import Store
from store.errors import StoreError
from tests.store.test_review import history  # noqa: F401  (the hand-built fixture)
from tui.cli import main

ARGS = ["--week", "2026-W47"]
REPS = [{"id": "me", "name": "Mia Meyer", "email": "mia@example.com"},
        {"id": "bo", "name": "Bo Berg", "email": "bo@example.com"},
        {"id": "cy", "name": "Cy, no address"}]
USER, PASSWORD = "reviews@example.com", "s3cret pass"


@pytest.fixture(autouse=True)
def fixed_day_and_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALDECK_TODAY", "2026-11-25")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")  # no machine's keyring
    monkeypatch.delenv("DEALDECK_SMTP_PASSWORD", raising=False)


def with_team(store: Store, **mail: Any) -> None:
    store.save_team_settings({"reps": REPS, **({"mail": mail} if mail else {})})
    store.close()


def parsed(data: bytes) -> EmailMessage:
    return message_from_bytes(data, policy=default)  # type: ignore[return-value]


def check_review_message(message: EmailMessage) -> None:
    """Addressed to the reps with an address, text and HTML, the HTML strictly valid and
    without SVG (mail programs strip it)."""
    assert message["Subject"] == "Weekly review · team · 2026-W47 (16 Nov – 22 Nov 2026)"
    assert [a.addr_spec for a in message["To"].addresses] == ["mia@example.com", "bo@example.com"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    page = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "# Weekly review · team · 2026-W47" in text and "Pipeline waterfall" in page
    html5lib.HTMLParser(strict=True).parse(page)  # raises on any parse error
    assert "<svg" not in page and "background:#5aa9e6" in page  # the charts as bars mail programs show


def test_the_eml_is_a_private_message_to_the_reps_with_text_and_html(history: Store, folder: Path,  # noqa: F811
                                                                    tmp_path: Path) -> None:
    with_team(history)
    out = tmp_path / "review.eml"
    assert main(["review", "--data", str(folder), *ARGS, "--format", "eml", "-o", str(out)]) == 0
    check_review_message(parsed(out.read_bytes()))
    assert out.stat().st_mode & 0o777 == 0o600
    assert b"\r\n" in out.read_bytes()  # as it goes over SMTP


def test_nobody_to_mail_is_one_line_and_no_file(history: Store, folder: Path, tmp_path: Path,  # noqa: F811
                                               capsys: pytest.CaptureFixture[str]) -> None:
    history.close()  # the reps have no address
    out = tmp_path / "review.eml"
    assert main(["review", "--data", str(folder), *ARGS, "--format", "eml", "-o", str(out)]) == 1
    assert "nobody to mail the review to" in capsys.readouterr().err and not out.exists()


# -- a real SMTP server -----------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, its own authority (the client trusts it by SSL_CERT_FILE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        # handled=False: aiosmtpd answers 535 itself (handled=True would leave the client waiting)
        return AuthResult(success=(login, password) == (USER, PASSWORD), handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["starttls", "tls"])
def smtp(request: pytest.FixtureRequest, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Inbox, dict[str, Any]]]:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client's authorities: this one alone
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    # aiosmtpd offers AUTH only once it sees TLS: after STARTTLS, or (it cannot tell) on a
    # socket wrapped from the start, where it must be told not to wait for it.
    tls = ({"ssl_context": context, "auth_require_tls": False} if request.param == "tls"
           else {"tls_context": context, "require_starttls": True, "auth_require_tls": True})
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate,
                            server_hostname="127.0.0.1", **tls)
    controller.start()
    try:
        yield inbox, {"host": "127.0.0.1", "port": port, "security": request.param, "user": USER}
    finally:
        controller.stop()


def test_the_review_is_sent_through_the_teams_server_and_arrives_whole(
        history: Store, folder: Path, smtp: tuple[Inbox, dict[str, Any]],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    inbox, mail = smtp
    with_team(history, **mail)
    monkeypatch.setenv("DEALDECK_SMTP_PASSWORD", PASSWORD)
    assert main(["review", "--data", str(folder), *ARGS, "--send"]) == 0
    assert "mailed the 2026-W47 review to" in capsys.readouterr().err
    assert inbox.logins == [(USER, PASSWORD)]
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == USER and envelope.rcpt_tos == ["mia@example.com", "bo@example.com"]
    check_review_message(parsed(envelope.original_content))
    assert PASSWORD.encode() not in b"".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_a_wrong_password_is_one_line_and_nothing_is_sent(history: Store, folder: Path,  # noqa: F811
                                                         smtp: tuple[Inbox, dict[str, Any]],
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    inbox, mail = smtp
    with_team(history, **mail)
    monkeypatch.setenv("DEALDECK_SMTP_PASSWORD", "wrong")
    assert main(["review", "--data", str(folder), *ARGS, "--send"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"refused the login of {USER}" in err and not inbox.envelopes


def test_without_a_password_nothing_is_tried(history: Store, folder: Path,  # noqa: F811
                                             smtp: tuple[Inbox, dict[str, Any]],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    inbox, mail = smtp
    with_team(history, **mail)
    assert main(["review", "--data", str(folder), *ARGS, "--send"]) == 1
    assert "set DEALDECK_SMTP_PASSWORD, or store it in the system keyring" in capsys.readouterr().err
    assert not inbox.logins and not inbox.envelopes


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(history: Store, folder: Path,  # noqa: F811
                                                                smtp: tuple[Inbox, dict[str, Any]],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    inbox, mail = smtp
    with_team(history, **mail)
    (tmp_path / "other").mkdir()
    other, _ = self_signed(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))  # another authority than the server's
    monkeypatch.setenv("DEALDECK_SMTP_PASSWORD", PASSWORD)
    assert main(["review", "--data", str(folder), *ARGS, "--send"]) == 1
    assert "no secure connection to 127.0.0.1" in capsys.readouterr().err
    assert not inbox.logins and not inbox.envelopes  # the password never left


@pytest.mark.parametrize(("mail", "problem"), [
    ({"host": "smtp.example.com", "password": "x"}, "never kept in the settings"),
    ({"host": "smtp.example.com", "security": "none"}, "only for a relay on this computer"),
    ({"host": "smtp.example.com", "security": "ssl"}, "security"),
])
def test_mail_settings_that_would_leak_are_refused(store: Store, mail: dict[str, Any], problem: str) -> None:
    with pytest.raises(StoreError, match=problem):
        store.save_team_settings({"mail": mail})
    assert "mail" not in store.team_values()
