"""The weekly review as an e-mail: a MIME message ready to send (``review --format eml``),
and sending it through the team's SMTP server (``review --send``).

The message is multipart/alternative: the Markdown report as its plain text, the HTML
report with its charts as tables of bars (mail programs strip SVG). It goes to every rep
with an email address, and to the team's extra recipients (``mail.to``). The password is
read when sending, from ``DEALDECK_SMTP_PASSWORD`` or the system keyring, never from a
file Dealdeck writes.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid

from store.config import Config
from store.errors import StoreError
from store.mail_settings import KEYRING_SERVICE, PASSWORD_ENV, MailSettings
from store.review import Review
from tui.report import title, to_html, to_markdown

#: seconds to wait for the SMTP server at each step
SMTP_TIMEOUT_S = 30


def recipients(config: Config) -> list[str]:
    """The reps with an email, then the team's extra recipients, each once."""
    named = [f"{rep.name} <{rep.email}>" for rep in config.reps if rep.email] + list(config.mail.to)
    seen: dict[str, str] = {}
    for name, address in getaddresses(named):
        seen.setdefault(address.lower(), f"{name} <{address}>" if name else address)
    return list(seen.values())


def sender(config: Config) -> str:
    """The From address: the team's ``mail.sender``, else its SMTP user if that is an
    address, else the rep's own email; StoreError when there is none."""
    mail = config.mail
    me = next((rep for rep in config.reps if rep.id == config.me), None)
    for candidate in (mail.sender, mail.user if "@" in mail.user else "", f"{me.name} <{me.email}>" if me and me.email
                      else ""):
        if candidate:
            return candidate
    raise StoreError("the review has no sender: set mail.sender in `dealdeck team edit`, or your rep's email")


def review_message(review: Review, config: Config, now: datetime) -> EmailMessage:
    """The review as a message to the team (StoreError when nobody has an address)."""
    to = recipients(config)
    if not to:
        raise StoreError("nobody to mail the review to: give the reps an email (reps: email) or list addresses "
                         "under mail.to, in `dealdeck team edit`")
    message = EmailMessage(policy=SMTP)
    message["Subject"] = title(review)
    message["From"] = sender(config)
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="dealdeck.invalid")
    message.set_content(to_markdown(review))
    message.add_alternative(to_html(review, for_mail=True), subtype="html")
    return message


def smtp_password(mail: MailSettings) -> str | None:
    """The SMTP password: the environment's, else the system keyring's (None when the
    server takes no login, or neither holds one)."""
    if not mail.user:
        return None
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, mail.user)
    except keyring.errors.KeyringError:
        return None  # no keyring on this machine (over SSH, often): the environment it is


def send(message: EmailMessage, mail: MailSettings) -> None:
    """Send through the team's server: TLS from the start, or STARTTLS (the certificate
    checked against the system's authorities), or in clear to a relay on this computer.
    StoreError with one line for anything that goes wrong."""
    if not mail.host:
        raise StoreError("no SMTP server: set mail.host (and mail.user) in `dealdeck team edit`")
    password = smtp_password(mail)
    if mail.user and not password:
        raise StoreError(f"no password for {mail.user} on {mail.host}: set {PASSWORD_ENV}, or store it in the "
                         f"system keyring (service {KEYRING_SERVICE!r}, user {mail.user!r})")
    context = ssl.create_default_context()
    where = f"{mail.host}:{mail.server_port}"
    try:
        if mail.security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(mail.host, mail.server_port, timeout=SMTP_TIMEOUT_S,
                                                    context=context)
        else:
            server = smtplib.SMTP(mail.host, mail.server_port, timeout=SMTP_TIMEOUT_S)
        with server:
            if mail.security == "starttls":
                server.starttls(context=context)
            if mail.user:
                server.login(mail.user, password or "")
            refused = server.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise StoreError(f"{where} refused the login of {mail.user}: check the password") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise StoreError(f"{where} does not offer {'STARTTLS' if 'STARTTLS' in str(exc) else 'a login'}: "
                         "check mail.security") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise StoreError(f"{where} refused every recipient: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPException as exc:
        raise StoreError(f"{where} refused the message: {exc}") from None
    except ssl.SSLError as exc:
        raise StoreError(f"no secure connection to {where}: {exc.reason or exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot reach {where}: {exc.strerror or exc}") from None
    if refused:
        raise StoreError(f"sent, but {where} refused {', '.join(refused)}")
