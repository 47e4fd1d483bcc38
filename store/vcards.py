"""Reading vCard files (``.vcf``), through vobject's parser, and writing a contact as a card.

Import reads vCard 2.1, 3.0 and 4.0 files as phones, Thunderbird, Outlook,
Evolution and Google Contacts write them (several cards a file, folded lines,
quoted-printable values, a file in the charset its cards name) into contacts:
name from FN (else N), role from TITLE (else ROLE), the preferred EMAIL and TEL,
BDAY, NOTE, and the other e-mails, phones and addresses appended to the notes as
``Label: value`` lines; the kept e-mail and phone get such a line too when the card
gives them a kind (``E-mail (home): ...``), as a contact has no field for it. A card's
ORG names its customer, matched as the CSV import matches one (exact name, then
without Ltd/Inc); a customer that does not exist yet is created. A card's UID is kept
as the contact's ``external_id`` (a card without one is matched by e-mail), so
importing the same file again updates the contacts instead of copying them. PHOTO,
LOGO, SOUND and KEY are never decoded.

Export writes a contact's N from its name (``structured_name``: honorifics, suffixes,
``Family, Given``, surname particles), as a contact keeps no structured name, and
labels its e-mail and phone with the kind its notes give them, or none.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from store.errors import StoreError
from store.models import strip_controls

MAX_FILE_BYTES = 256 * 1024 * 1024
#: the UID of an exported contact that had none of its own: ``dealdeck-<contact id>``
OWN_UID = re.compile(r"^dealdeck-([0-9a-f]{32})$")
#: contact fields a card sets (the others are left as they are)
CARD_FIELDS = ("name", "role", "email", "phone", "birthday", "notes", "external_id")
_BINARY = frozenset({"PHOTO", "LOGO", "SOUND", "KEY"})
#: the properties a card is read from; of those in ``_FIRST_ONLY`` only the first counts
_READ = frozenset({"FN", "N", "ORG", "TITLE", "ROLE", "EMAIL", "TEL", "ADR", "BDAY", "NOTE", "UID"})
_FIRST_ONLY = frozenset({"FN", "N", "ORG", "TITLE", "ROLE", "BDAY", "UID"})
_SHOWN_TYPES = {"home": "home", "work": "work", "cell": "mobile", "fax": "fax", "pager": "pager",
                "video": "video", "text": "text", "voice": "", "internet": "", "pref": "", "x400": ""}
_CHARSET = re.compile(rb"CHARSET=\"?([A-Za-z0-9_.-]+)", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:T[0-9:.Z+-]*)?$")
_NO_YEAR = re.compile(r"^--(\d{2})-?(\d{2})$")


# --- reading a file -------------------------------------------------------------------


@dataclass
class Entry:
    """An EMAIL, TEL or ADR of a card: its text, its TYPEs, its preference."""

    value: str
    types: frozenset[str]
    #: 0 most preferred (PREF=1, TYPE=pref), higher less, ``NOT_PREFERRED`` without
    pref: int
    index: int
    label: str = ""

    def shown(self, kind: str) -> str:
        """``kind`` and what the card says of the entry: ``Phone (mobile, work)``."""
        kinds = self.kinds()
        return f"{kind} ({', '.join(kinds)})" if kinds else kind

    def kinds(self) -> list[str]:
        """Its label (an Apple ``X-ABLabel``), else its TYPEs as shown (``cell`` as mobile)."""
        if self.label:
            return [self.label]
        types = [_SHOWN_TYPES.get(t, t) for t in sorted(self.types)]
        return [t for t in types if t and not t.startswith("x-")]


@dataclass
class Card:
    """One vCard, read: what a contact is made of."""

    position: int
    name: str = ""
    org: str = ""
    departments: list[str] = field(default_factory=list)
    title: str = ""
    role: str = ""
    emails: list[Entry] = field(default_factory=list)
    phones: list[Entry] = field(default_factory=list)
    addresses: list[Entry] = field(default_factory=list)
    birthday: str = ""
    birthday_is_text: bool = False
    note: str = ""
    uid: str = ""
    #: why the card cannot be imported as it is (a line that cannot be read)
    problem: str = ""

    def label(self) -> str:
        return f"card {self.position} ({self.name or (self.emails[0].value if self.emails else 'no name')})"


def read_cards(path: Path) -> tuple[list[Card], list[str]]:
    """The cards of a ``.vcf`` file and notes about it (a charset other than UTF-8, a
    component that is no vCard). A file that cannot be read, or holds no vCard, raises
    ``StoreError`` with one line; a card with a line that cannot be read has a ``problem``."""
    text, charset = _decode(_read_bytes(path))
    notes = [f"note: {path} is not UTF-8; it was read as {charset}"] if charset else []
    cards: list[Card] = []
    raws, stray = _raw_cards(text)
    if stray:
        notes.append(f"note: {path} line {stray[0]}: {len(stray)} line{'s' if len(stray) > 1 else ''} "
                     "outside BEGIN:VCARD ... END:VCARD left out")
    for raw in raws:
        if raw.kind != "VCARD":
            notes.append(f"note: {path} line {raw.line}: a {raw.kind or 'nameless'} component is no vCard; left out")
            continue
        cards.append(card_of(raw.lines, len(cards) + 1, raw.problem))
    if not cards:
        raise StoreError(f"{path} holds no vCard (BEGIN:VCARD ... END:VCARD)")
    return cards, notes


@dataclass
class _RawCard:
    kind: str
    line: int
    lines: list[Any] = field(default_factory=list)
    problem: str = ""


def _raw_cards(text: str) -> tuple[list[_RawCard], list[int]]:
    """The components of a text as vobject's content lines: unfolded, quoted-printable
    decoded, parameters parsed, values as written. vobject's component reader is not
    used: as it closes a card it decodes every value, a PHOTO's base64 too (a bad one
    stops the whole file), and keeps of a 3.0 text value only what comes before its
    first unescaped comma (``FN:Doe, John`` as Google Contacts writes it). Also the
    numbers of the lines outside any component."""
    from vobject.base import VObjectError, getLogicalLines, parseLine, textLineToContentLine

    cards: list[_RawCard] = []
    stray: list[int] = []
    current: _RawCard | None = None
    depth = 0
    for logical, number in getLogicalLines(io.StringIO(text), allowQP=True):
        number = max(number, 1)  # vobject counts the first line as 0
        name = None
        try:
            name = str(parseLine(logical, number)[0]).upper()
            line = textLineToContentLine(logical, number)  # decodes quoted-printable
        except (VObjectError, LookupError, UnicodeError) as exc:
            if current is None:
                stray.append(number)
            elif not current.problem and _matters(name, current):
                current.problem = f"line {number} cannot be read ({_detail(exc)})"
            continue
        if line.name == "BEGIN":
            depth += 1
            if depth == 1:
                current = _RawCard(str(line.value).strip().upper(), number)
        elif line.name == "END":
            depth = max(depth - 1, 0)
            if depth == 0 and current is not None:
                cards.append(current)
                current = None
        elif depth == 1 and current is not None:  # a nested card (2.1 AGENT) is left out
            current.lines.append(line)
        elif depth == 0:
            stray.append(number)
    if current is not None:
        current.problem = current.problem or "the card has no END:VCARD"
        cards.append(current)
    return cards, stray


def _matters(name: str | None, card: _RawCard) -> bool:
    """Whether a line that cannot be read spoils its card: not when it is a property
    that is not read anyway (a second ORG with broken bytes, an X- property), nor an
    unindented line of a 2.1 base64 PHOTO."""
    if name is None:
        return not (card.lines and card.lines[-1].name in _BINARY)
    return name in _READ and not (name in _FIRST_ONLY and any(line.name == name for line in card.lines))


def _detail(exc: Exception) -> str:
    text = getattr(exc, "msg", None) or str(exc)
    return " ".join(strip_controls(str(text)).split())[:100]


def _read_bytes(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a vCard file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise StoreError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MB; split it")
        return path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"no such file: {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None


def _decode(data: bytes) -> tuple[str, str | None]:
    """UTF-8 (with or without a BOM) or UTF-16 with a BOM; else the charset the cards
    name (``N;CHARSET=SHIFT_JIS:...`` of an old phone), else Windows-1252."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            with contextlib.suppress(UnicodeDecodeError):
                return data.decode(codec), None
    with contextlib.suppress(UnicodeDecodeError):
        return data.decode("utf-8"), None
    named = [m.group(1).decode("ascii").upper() for m in _CHARSET.finditer(data)]
    for charset in [*dict.fromkeys(c for c in named if c.replace("-", "") != "UTF8"), "CP1252"]:
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return data.decode(charset), charset
    return data.decode("latin-1"), "Latin-1"


def card_of(content: list[Any], position: int, problem: str = "") -> Card:
    """A card from its content lines (vobject's ``ContentLine``)."""
    card = Card(position, problem=problem)
    labels = {line.group.lower(): _ab_label(_text(line.value)) for line in content
              if line.name == "X-ABLABEL" and line.group}
    lines = [line for line in content if line.name not in _BINARY]
    for index, line in enumerate(lines):
        _read_line(card, line, index, labels.get((line.group or "").lower(), ""))
    if not card.name:
        card.name = _name_from_n(next((line.value for line in lines if line.name == "N"), ""))
    return card


def _read_line(card: Card, line: Any, index: int, label: str) -> None:
    name = line.name
    if name in ("EMAIL", "TEL", "ADR"):
        value = _address(line.value) if name == "ADR" else _text(line.value)
        if name == "TEL":
            value = _tel(value)
        if value:
            entry = Entry(value, _types(line), _pref(line), index, label)
            {"EMAIL": card.emails, "TEL": card.phones, "ADR": card.addresses}[name].append(entry)
    elif name == "FN" and not card.name:
        card.name = _text(line.value)
    elif name == "ORG" and not card.org:
        parts = [part for part in _fields(line.value) if part]
        card.org, card.departments = (parts[0], parts[1:]) if parts else ("", [])
    elif name in ("TITLE", "ROLE", "UID", "BDAY") and not getattr(card, _ATTR[name]):
        setattr(card, _ATTR[name], _text(line.value))
        if name == "BDAY":
            card.birthday_is_text = "text" in (v.lower() for v in line.params.get("VALUE", []))
    elif name == "NOTE":
        card.note = "\n".join(part for part in (card.note, _text(line.value)) if part)


_ATTR = {"TITLE": "title", "ROLE": "role", "UID": "uid", "BDAY": "birthday"}


def _text(raw: str) -> str:
    """A text value without its backslash escapes (every comma kept: vobject's own
    decoding keeps only the text before the first unescaped one)."""
    from vobject.icalendar import stringToTextValues

    return stringToTextValues(raw, listSeparator=None)[0].strip() if raw else ""


def _fields(raw: str) -> list[str]:
    """The parts of a structured value (N, ORG, ADR), unescaped."""
    from vobject.vcard import splitFields

    parts = splitFields(raw) if raw else []
    return [(",".join(part) if isinstance(part, list) else part).strip() for part in parts]


def _name_from_n(raw: str) -> str:
    family, given, additional, prefix, suffix = [*_fields(raw), "", "", "", "", ""][:5]
    if any(is_cjk(ch) for ch in family + given):
        return family + given + additional
    return " ".join(part for part in (prefix, given, additional, family, suffix) if part)


def is_cjk(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af"


def _address(raw: str) -> str:
    parts = (" ".join(part.split()) for part in _fields(raw))
    return ", ".join(part.strip(" ,") for part in parts if part.strip(" ,"))


def _tel(value: str) -> str:
    """A phone number: a 4.0 ``tel:`` URI as the number it names."""
    if value.lower().startswith("tel:"):
        number, _, extension = value[4:].partition(";ext=")
        return f"{number} ext. {extension}" if extension else number
    return value


def _types(line: Any) -> frozenset[str]:
    types = {value.lower() for value in line.singletonparams}
    for value in line.params.get("TYPE", []):
        types.update(part.strip().lower() for part in value.split(",") if part.strip())
    return frozenset(types)


NOT_PREFERRED = 1000


def _pref(line: Any) -> int:
    """Lower is preferred: PREF=1 (4.0) or TYPE=PREF (2.1, 3.0) first."""
    values = line.params.get("PREF", [])
    if values:
        return min(int(values[0]) - 1, NOT_PREFERRED - 1) if values[0].isdigit() else 0
    return 0 if "pref" in _types(line) else NOT_PREFERRED


def _ab_label(text: str) -> str:
    """Apple's item label, ``_$!<HomePage>!$_`` as ``HomePage``."""
    return text.removeprefix("_$!<").removesuffix(">!$_")


# --- a card as a contact's fields ------------------------------------------------------------

_FAVOURED = {"email": ("work",), "phone": ("work", "cell")}
_UNFAVOURED = frozenset({"fax", "pager", "modem"})


def best(entries: list[Entry], kind: str) -> Entry | None:
    """The entry a contact keeps: preferred first, then work (or mobile for a phone), fax last."""
    favoured = _FAVOURED[kind]

    def rank(entry: Entry) -> tuple[bool, int, int, int]:
        kinds = [i for i, t in enumerate(favoured) if t in entry.types]
        return bool(entry.types & _UNFAVOURED), entry.pref, kinds[0] if kinds else len(favoured), entry.index

    return min(entries, key=rank, default=None)


def contact_fields(card: Card) -> tuple[dict[str, Any], list[str]]:
    """The contact fields the card sets, and its problems (a BDAY that is no date)."""
    email, phone = best(card.emails, "email"), best(card.phones, "phone")
    extras = [f"Department: {'; '.join(card.departments)}"] if card.departments else []
    if card.title and card.role and card.role != card.title:
        extras.append(f"Role: {card.role}")
    # The kept e-mail and phone too when the card says what kind they are: a contact has
    # no field for it, and export labels them from these lines.
    extras += [f"{e.shown('E-mail')}: {e.value}" for e in card.emails if e is not email or e.kinds()]
    extras += [f"{e.shown('Phone')}: {e.value}" for e in card.phones if e is not phone or e.kinds()]
    extras += [f"{e.shown('Address')}: {e.value}" for e in card.addresses]
    birthday, problems = _birthday(card, extras)
    noted = set(card.note.splitlines())  # a card Dealdeck wrote has them in its NOTE already
    notes = "\n".join(p for p in (card.note, *(line for line in extras if line not in noted)) if p)
    data: dict[str, Any] = {"name": card.name, "role": card.title or card.role,
                            "email": email.value if email else None, "phone": phone.value if phone else None,
                            "birthday": birthday, "notes": notes}
    if card.uid and not OWN_UID.match(card.uid):
        data["external_id"] = card.uid
    return {k: v for k, v in data.items() if v}, problems


def _birthday(card: Card, extras: list[str]) -> tuple[date | None, list[str]]:
    """A BDAY as a date; one without a year, or given as text, is kept as a note."""
    text = card.birthday
    if not text:
        return None, []
    match = _DATE.match(text)
    if match and not card.birthday_is_text:
        try:
            return date(*(int(part) for part in match.groups())), []
        except ValueError:
            return None, [f"BDAY {text!r}: not a real date"]
    no_year = _NO_YEAR.match(text)
    if no_year or card.birthday_is_text:
        extras.append(f"Birthday: {f'{no_year.group(1)}-{no_year.group(2)} (no year)' if no_year else text}")
        return None, []
    return None, [f"BDAY {text!r}: not a date (expected YYYY-MM-DD)"]


# --- a contact as a card -------------------------------------------------------------------

VERSIONS = ("3.0", "4.0")
PRODID = "-//Dealdeck//Dealdeck CRM//EN"

#: honorifics before a name and what may follow it, without case or dots
_PREFIXES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "fr", "sir", "dame", "hon",
                       "herr", "frau", "mme", "mlle"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd", "phd", "md", "esq", "esquire", "dds", "dmd",
                       "jd", "mba", "cpa", "rn", "dvm", "msc", "mphil", "llm"})
#: words that begin a family name of several words (Ludwig van Beethoven, Juan de la Cruz)
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "del", "della", "di", "da", "das", "dos", "du", "des",
                        "la", "le", "ten", "ter", "bin", "ibn", "al"})
#: what an export labels a kind (as the import shows it) in TYPE, for an e-mail and for a phone
_EMAIL_TYPES = {"home": "home", "work": "work"}
_PHONE_TYPES = {**_EMAIL_TYPES, "mobile": "cell", "fax": "fax", "pager": "pager", "video": "video",
                "text": "text", "textphone": "textphone"}
_KIND_LINE = re.compile(r"^(E-mail|Phone) \(([^()]+)\): (.+)$")


@dataclass(frozen=True)
class NameParts:
    """A vCard's N: what a contact's one ``name`` is made of."""

    family: str = ""
    given: str = ""
    additional: str = ""
    #: each a value of N's list (``Prof.,Dr.``)
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()


def _word(word: str) -> str:
    return word.casefold().replace(".", "").strip(",")


def _is_prefix(word: str) -> bool:
    return _word(word) in _PREFIXES


def _is_suffix(word: str) -> bool:
    return _word(word) in _SUFFIXES


def structured_name(name: str) -> NameParts:
    """N for a name as people write it: ``Dr. John Q. Public, III`` is prefix Dr., given
    John, additional Q., family Public, suffix III; ``Doe, John`` is family Doe, given
    John; the last word is the family name, with the particles before it (``van
    Beethoven``). A name in CJK script is written family name first (``安藤 ロイド``); a
    name of one word is all family name (FN is what programs show)."""
    name = " ".join(name.split())
    if not name:
        return NameParts()
    if any(is_cjk(ch) for ch in name):
        family, _, given = name.partition(" ")
        return NameParts(family, given)
    segments = [segment.strip() for segment in name.split(",")]
    segments = [segment for segment in segments if segment]
    suffixes: list[str] = []
    while len(segments) > 1 and all(_is_suffix(word) for word in segments[-1].split()):
        suffixes.insert(0, segments.pop())  # Dr. John Q. Public, III / John Smith, Jr., PhD
    if len(segments) == 2 and not _is_prefix(segments[0].split()[0]):
        family_words = segments[0].split()  # Doe, John Q. / Doe Jr., John
        while len(family_words) > 1 and _is_suffix(family_words[-1]):
            suffixes.insert(0, family_words.pop())
        prefixes, given, additional, more = _given_names(segments[1].split())
        return NameParts(" ".join(family_words), given, additional, prefixes, (*more, *suffixes))
    words = ", ".join(segments).split()  # Mr. John Richter, James Doe Sr.: the comma stays inside
    prefixes = []
    while len(words) > 1 and _is_prefix(words[0]):
        prefixes.append(words.pop(0))
    trailing = []
    while len(words) > 1 and _is_suffix(words[-1]):
        trailing.insert(0, words.pop())
    if len(words) == 1:
        return NameParts(words[0], "", "", tuple(prefixes), (*trailing, *suffixes))
    start = len(words) - 1
    while start > 1 and words[start - 1].casefold() in _PARTICLES:
        start -= 1
    return NameParts(" ".join(words[start:]), words[0], " ".join(words[1:start]), tuple(prefixes),
                     (*trailing, *suffixes))


def _given_names(words: list[str]) -> tuple[tuple[str, ...], str, str, list[str]]:
    """(prefixes, given, additional, suffixes) of the part after the comma of ``Doe, Dr. John Q.``."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    while len(words) > 1 and _is_prefix(words[0]):
        prefixes.append(words.pop(0))
    while len(words) > 1 and _is_suffix(words[-1]):
        suffixes.insert(0, words.pop())
    return tuple(prefixes), words[0], " ".join(words[1:]), suffixes


def noted_kinds(notes: str, kind: str, value: str) -> list[str]:
    """The TYPEs of the contact's e-mail (``kind`` "E-mail") or phone ("Phone") ``value``
    from the notes' line for it (``E-mail (home): ...``, as import writes them); none when
    no line names it, or names a kind vCard has no TYPE for. Never a guess."""
    types = _EMAIL_TYPES if kind == "E-mail" else _PHONE_TYPES
    wanted = value.strip().casefold() if kind == "E-mail" else value.strip()
    for line in notes.splitlines():
        match = _KIND_LINE.match(line.strip())
        if match is None or match.group(1) != kind:
            continue
        found = match.group(3).strip()
        if (found.casefold() if kind == "E-mail" else found) == wanted:
            shown = [part.strip().casefold() for part in match.group(2).split(",")]  # Apple's "Work" too
            return list(dict.fromkeys(types[part] for part in shown if part in types))
    return []


def uid_of(contact: Mapping[str, Any]) -> str:
    """The card's UID: the contact's own from where it came, else one made of its id."""
    return str(contact.get("external_id") or f"dealdeck-{contact['id']}")


def card_text(contact: Mapping[str, Any], customer: str, version: str = "3.0") -> str:
    """One contact (a stored document) as a vCard of ``version``, lines folded, CRLF."""
    import vobject
    from vobject.vcard import Name

    _check_version(version)
    card = vobject.vCard()
    card.add("version").value = version
    card.add("prodid").value = PRODID
    card.add("uid").value = uid_of(contact)
    name = str(contact["name"])
    card.add("fn").value = name
    parts = structured_name(name)
    card.add("n").value = Name(family=parts.family, given=parts.given, additional=parts.additional,
                               prefix=list(parts.prefixes), suffix=list(parts.suffixes))
    card.add("org").value = [customer]
    if contact.get("role"):
        card.add("title").value = str(contact["role"])
    notes = str(contact.get("notes") or "")
    for prop, key, kind in (("email", "email", "E-mail"), ("tel", "phone", "Phone")):
        if contact.get(key):
            line = card.add(prop)
            line.value = str(contact[key])
            types = noted_kinds(notes, kind, line.value)
            if version == "3.0":
                types = [t.upper() for t in types] + (["INTERNET"] if prop == "email" else [])
            if types:
                line.type_paramlist = types
    birthday = contact.get("birthday")
    if birthday:
        day = birthday if isinstance(birthday, date) else date.fromisoformat(str(birthday)[:10])
        card.add("bday").value = day.isoformat() if version == "3.0" else day.strftime("%Y%m%d")
    if notes:
        card.add("note").value = notes
    return str(card.serialize())


def write_cards(out: TextIO, chosen: Iterable[tuple[Mapping[str, Any], str]], version: str = "3.0") -> int:
    """Write each (contact, its customer's name) to ``out`` as a vCard; return how many."""
    _check_version(version)
    count = 0
    for contact, customer in chosen:
        out.write(card_text(contact, customer, version))
        count += 1
    return count


def _check_version(version: str) -> None:
    if version not in VERSIONS:
        raise StoreError(f"vCard version {version}? (choose {' or '.join(VERSIONS)})")
