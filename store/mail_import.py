"""E-mail import (``dealdeck import eml``): messages from ``.eml`` files and Maildir folders
logged as ``email`` activities on the lead, contact or customer whose address they carry.

Three steps, kept apart: reading a message into a ``MailMessage`` (here: stdlib ``email``
with ``policy.default``; the body's text comes from ``store.mail_text``), matching its
addresses to records (here: ``AddressBook``, built from stored documents, no I/O), and
writing (``store.mail_log.import_mail``: one ``store.writing()`` transaction for the whole
run, or nothing with ``dry_run``).

The rules:

- The addresses of From, To and Cc count, case-insensitively. The team's own addresses
  (``reps[].email`` in the config) are ours, never a customer's: a message between a rep and
  a customer matches on the customer's side only.
- Several records match: the most specific one is linked, contact > lead > customer (within
  a kind, the first address in From, To, Cc order), and the report names the others. A
  contact links its customer too.
- The deal: when the linked customer has exactly one open opportunity, the activity is
  linked to it as well (so that its "stale" warning counts the e-mail); with none or several
  open, none is guessed. The report names the deal it linked.
- The time is the Date header, in UTC. A message without a Date that parses is refused with
  the reason (reported as unreadable): a file's time is when it was copied, not when it was sent.
- A message is logged once: its Message-ID is kept in ``Activity.external_id``, and a message
  whose Message-ID is there already (this run or an earlier one) is reported as already
  logged. A message without one is given a stand-in derived from its date, addresses,
  subject and body, so that importing it again still finds it.
- The lead's ``last_contacted_at`` and the customer's ``last_contact_at`` move to the
  message's time when it is newer, and a new lead becomes contacted, as with any activity.
"""

from __future__ import annotations

import email
import mailbox
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from hashlib import sha256
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from store.errors import StoreError
from store.mail_text import cap, html_to_text, reply_text
from store.models import Contact, Customer, Lead, Opportunity

if TYPE_CHECKING:
    from store.database import Store

#: the limits of the Activity fields the message goes into (models.Text, Line, ExternalId)
BODY_MAX, SUBJECT_MAX, ID_MAX = 20_000, 200, 400
#: a larger file is not a message someone saved (and is not read)
MESSAGE_MAX_BYTES = 64 * 2**20
#: external_id of a message that has no Message-ID: this and a digest of its content
NO_ID_PREFIX = "no-message-id:"
_ADDRESS_HEADERS = ("from", "to", "cc")
_MAIL_HEADERS = frozenset({"from", "to", "cc", "date", "subject", "message-id"})
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
NOT_A_MESSAGE = "not an e-mail message (no From, To, Date or Subject header)"
#: a message's first line: a header, or an mbox "From " line (the parser takes it); how much is read to see it
_HEADER_START = re.compile(rb"From |[\x21-\x39\x3b-\x7e]+:")
_HEADER_PEEK = 1024
#: the "From " line that begins the next message of an mbox file (mboxrd: "From addr Mon Jan  1 ...")
_MBOX_NEXT = re.compile(rb"\r?\n\r?\nFrom \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ")
#: how ``email`` keeps the bytes of a header that are not ASCII and not declared
_SURROGATE = re.compile("[\udc80-\udcff]")
Kind = Literal["contact", "lead", "customer"]
#: most specific first
_KINDS: tuple[Kind, ...] = ("contact", "lead", "customer")


class MailError(Exception):
    """A message that cannot be logged; ``str(error)`` says why, in one line."""


@dataclass(frozen=True, slots=True)
class MailMessage:
    source: str
    #: the Message-ID with its angle brackets, or a stand-in (``NO_ID_PREFIX`` ...)
    message_id: str
    #: the From header, decoded ("Heinz Müller <mueller@example.com>")
    sender: str
    #: lower-cased, each once, in From, To, Cc order
    addresses: tuple[str, ...]
    subject: str
    at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    source: str
    reason: str


# -- reading ----------------------------------------------------------------------------


def check_paths(paths: Iterable[Path]) -> None:
    """Refuse (one line) a path that is not there, and folders with nothing in them to
    read, before anything is read or written (of several folders, some may be empty)."""
    paths = list(paths)
    for path in paths:
        if not path.exists():
            raise StoreError(f"no such file or folder: {path}")
    if paths and all(path.is_dir() and _holds_nothing(path) for path in paths):
        raise StoreError(f"no messages in {', '.join(str(path) for path in paths)}")


def _holds_nothing(folder: Path) -> bool:
    items = _read_folder(folder)
    try:
        return next(items, None) is None  # reads one message at most
    finally:
        items.close()


def read_messages(paths: Iterable[Path]) -> Iterator[MailMessage | Unreadable]:
    """Each message of the files and folders given: a folder with ``cur/`` and ``new/`` is
    a Maildir (its Maildir++ subfolders too); any other folder is read whole, every file
    in it and its subfolders tried as a message whatever its name (a Maildir's ``cur/``
    given on its own: ``1733500000.M1P2.host:2,S``), hidden ones (``.DS_Store``) left out.
    A file named on its own is read whatever its name."""
    for path in paths:
        if path.is_dir():
            yield from _read_folder(path)
        else:
            yield _read_file(path)


def _read_folder(folder: Path) -> Iterator[MailMessage | Unreadable]:
    if (folder / "cur").is_dir() and (folder / "new").is_dir():
        yield from _read_maildir(mailbox.Maildir(folder, factory=None, create=False), folder)
        return
    try:
        entries = sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    except OSError as exc:
        yield Unreadable(str(folder), f"cannot be read: {exc.strerror or exc}")
        return
    for entry in entries:
        if entry.is_dir():
            if not entry.is_symlink():  # a linked folder may lead back up
                yield from _read_folder(entry)
        elif entry.is_file():  # not a pipe or a socket: reading one would wait forever
            yield _read_file(entry)


def _read_file(path: Path) -> MailMessage | Unreadable:
    try:
        if path.stat().st_size > MESSAGE_MAX_BYTES:
            return Unreadable(str(path), f"larger than {MESSAGE_MAX_BYTES >> 20} MB, not a saved message")
        with path.open("rb") as file:
            if not _HEADER_START.match(file.read(_HEADER_PEEK)):  # a photo, a PDF: not read whole
                return Unreadable(str(path), NOT_A_MESSAGE)
            file.seek(0)
            data = file.read()
    except OSError as exc:
        return Unreadable(str(path), f"cannot be read: {exc.strerror or exc}")
    return parse_or_unreadable(data, str(path))


def _read_maildir(box: mailbox.Maildir, folder: Path) -> Iterator[MailMessage | Unreadable]:
    try:
        keys, subfolders = sorted(box.keys()), sorted(box.list_folders())
    except OSError as exc:
        yield Unreadable(str(folder), f"cannot be read as a Maildir: {exc.strerror or exc}")
        return
    for key in keys:
        source = f"{folder}/{key}"
        try:
            message = box.get_message(key)  # which subfolder and flags: the file's own name
            info = message.get_info()
            source = f"{folder}/{message.get_subdir()}/{key}{box.colon + info if info else ''}"
            data = box.get_bytes(key)
        except (OSError, KeyError) as exc:
            yield Unreadable(source, f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
            continue
        yield parse_or_unreadable(data, source)
    for name in subfolders:
        yield from _read_maildir(box.get_folder(name), folder / f".{name}")


def parse_or_unreadable(data: bytes, source: str) -> MailMessage | Unreadable:
    try:
        return parse_message(data, source)
    except MailError as exc:
        return Unreadable(source, str(exc))


def parse_message(data: bytes, source: str) -> MailMessage:
    """The message in ``data`` (the bytes of an .eml file); ``MailError`` if it cannot be logged."""
    if data.startswith(b"From ") and _MBOX_NEXT.search(data):
        raise MailError("an mbox file, several messages in one; save them as .eml files or a Maildir")
    try:
        parsed = email.message_from_bytes(data, policy=policy.default)
        return _from_parsed(parsed, source)  # type: ignore[arg-type]
    except MailError:
        raise
    except Exception as exc:  # the email package's reaction to a badly broken message varies
        raise MailError(f"cannot be read as an e-mail message ({type(exc).__name__})") from None


def _from_parsed(msg: EmailMessage, source: str) -> MailMessage:
    if not {key.lower() for key in msg} & _MAIL_HEADERS:
        raise MailError(NOT_A_MESSAGE)
    addresses = _addresses(msg)
    if not addresses:
        raise MailError("no From, To or Cc address")
    at = _date(msg)
    subject = cap(" ".join(_header(msg, "subject").split()), SUBJECT_MAX)
    body = cap(_body(msg), BODY_MAX)
    message_id = _message_id(_header(msg, "message-id"), (at.isoformat(), *addresses, subject, body))
    return MailMessage(source, message_id, " ".join(_header(msg, "from").split()), addresses, subject, at, body)


def _header(msg: EmailMessage, name: str) -> str:
    """A header decoded (RFC 2047 encoded words), "" when absent."""
    raw = _raw(msg, name)
    if any(_SURROGATE.search(value) for value in raw):
        # Undeclared 8-bit bytes: ``str(header)`` would show "�" for them; ``_readable`` decodes them.
        return _readable(" ".join(_decoded_raw(value) for value in raw))
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # policy.default refuses some malformed headers: decode the raw value
        return " ".join(_decoded_raw(value) for value in raw)


def _raw(msg: EmailMessage, name: str) -> list[str]:
    return [str(value) for key, value in msg.raw_items() if key.lower() == name]


def _decoded_raw(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError):
        return value


def _readable(text: str) -> str:
    """Undecoded 8-bit bytes in a header (kept by ``email`` as surrogates) as UTF-8 if they
    are, else as Windows-1252, which the senders of such headers mostly used."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _addresses(msg: EmailMessage) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for name in _ADDRESS_HEADERS:
        for address in _header_addresses(msg, name):
            address = _readable(address).strip().lower()
            if "@" in address:
                found.setdefault(address, None)
    return tuple(found)


def _header_addresses(msg: EmailMessage, name: str) -> list[str]:
    try:
        return [a.addr_spec for header in msg.get_all(name, []) for a in header.addresses]
    except Exception:  # an address header policy.default cannot parse: the lenient parser
        return [address for _, address in getaddresses(_raw(msg, name))]


def _date(msg: EmailMessage) -> datetime:
    raw = _header(msg, "date").strip()
    if not raw:
        raise MailError("no Date header, so when it was sent is unknown (the file's time is not used)")
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise MailError(f"its Date header is not a date: {cap(raw, 60)!r}") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _body(msg: EmailMessage) -> str:
    """The text/plain body, else the text/html one as text; quotes and signature trimmed."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _readable(_content(part))  # type: ignore[arg-type]
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return reply_text(text)


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except Exception:  # an unknown charset, a broken transfer encoding: take the bytes as UTF-8
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
    return content if isinstance(content, str) else ""


def _message_id(header: str, content: Sequence[str]) -> str:
    found = _MESSAGE_ID.search(header)
    value = found.group(0) if found else header.strip()
    if value and len(value) <= ID_MAX and value.isprintable():
        return value
    if value:
        return "sha256:" + sha256(value.encode("utf-8", "replace")).hexdigest()
    digest = sha256("\n".join(content).encode("utf-8", "replace")).hexdigest()
    return NO_ID_PREFIX + digest[:40]


# -- matching ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record an address belongs to."""

    kind: Kind
    id: str
    label: str
    #: a contact's customer, a customer's own id; None for a lead
    customer_id: str | None


@dataclass(frozen=True, slots=True)
class Target:
    """The record a message is logged on, the deal linked with it, and the matches passed over."""

    chosen: Candidate
    deal: tuple[str, str] | None = None
    passed_over: tuple[str, ...] = ()

    def links(self) -> dict[str, str | None]:
        kind = self.chosen.kind
        return {"lead_id": self.chosen.id if kind == "lead" else None,
                "contact_id": self.chosen.id if kind == "contact" else None,
                "customer_id": self.chosen.customer_id,
                "opportunity_id": self.deal[0] if self.deal else None}

    def describe(self) -> str:
        text = self.chosen.label + (f', deal "{self.deal[1]}"' if self.deal else "")
        if self.passed_over:
            text += (f"; also matches {', '.join(self.passed_over)}"
                     f" (the {self.chosen.kind} is linked: contact > lead > customer)")
        return text


class AddressBook:
    """Records by e-mail address, from stored documents (no I/O)."""

    def __init__(self, *, leads: Iterable[Mapping[str, Any]], customers: Iterable[Mapping[str, Any]],
                 contacts: Iterable[Mapping[str, Any]], opportunities: Iterable[Mapping[str, Any]],
                 ours: Iterable[str] = (), open_stages: Iterable[str] = ()) -> None:
        self.ours = frozenset(address.strip().lower() for address in ours if address)
        self._by_address: dict[str, list[Candidate]] = {}
        customer_docs = list(customers)
        names = {doc["id"]: doc.get("name") or "" for doc in customer_docs}
        for doc in contacts:
            at = names.get(doc.get("customer_id") or "", "")
            self._add(doc, Candidate("contact", doc["id"], _label("contact", doc, at), doc.get("customer_id")))
        for doc in leads:
            self._add(doc, Candidate("lead", doc["id"], _label("lead", doc, doc.get("company") or ""), None))
        for doc in customer_docs:
            self._add(doc, Candidate("customer", doc["id"], _label("customer", doc, ""), doc["id"]))
        stages = frozenset(open_stages)
        self._open_deals: dict[str, list[tuple[str, str]]] = {}
        for doc in opportunities:
            if doc.get("stage") in stages and not doc.get("closed_at"):
                self._open_deals.setdefault(doc["customer_id"], []).append((doc["id"], doc.get("title") or ""))

    @classmethod
    def of_store(cls, store: Store) -> AddressBook:
        config = store.config
        return cls(leads=store.rows(Lead), customers=store.rows(Customer), contacts=store.rows(Contact),
                   opportunities=store.rows(Opportunity), ours=(rep.email for rep in config.reps),
                   open_stages=(stage.key for stage in config.open_stages))

    def _add(self, doc: Mapping[str, Any], candidate: Candidate) -> None:
        address = (doc.get("email") or "").strip().lower()
        if address:
            self._by_address.setdefault(address, []).append(candidate)

    def target(self, addresses: Sequence[str]) -> Target | None:
        """What a message with these addresses is logged on; None if no record has one of them."""
        found: dict[str, Candidate] = {}
        for address in addresses:
            if address.lower() not in self.ours:
                for candidate in self._by_address.get(address.lower(), ()):
                    found.setdefault(candidate.id, candidate)
        if not found:
            return None
        chosen = min(found.values(), key=lambda c: _KINDS.index(c.kind))  # the first of the most specific
        deals = self._open_deals.get(chosen.customer_id or "", [])
        passed_over = tuple(c.label for c in found.values() if c is not chosen)
        return Target(chosen, deals[0] if len(deals) == 1 else None, passed_over)


def _label(kind: Kind, doc: Mapping[str, Any], where: str) -> str:
    return f"{kind} {doc.get('name') or doc['id']}" + (f" ({where})" if where else "")
