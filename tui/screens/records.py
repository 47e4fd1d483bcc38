"""Record details (any record type) and the duplicate warning."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, get_args, get_origin

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from store.changes import Changes
from store.custom_fields import PREFIX
from store.database import Store
from store.hlc import Stamp
from store.models import BY_TABLE, Activity, Contact, Customer, Lead, Opportunity, Record
from store.records import BASE, STAMPS
from tui.custom import custom_pairs, declared
from tui.forms import FORMS
from tui.screens.detail import HELP_KEY, UNDO_KEYS, DetailScreen, keys_footer
from tui.text import plain, plain_lines, plain_text

HIDDEN_FIELDS = {"id", "history", "stage_history", "quotes", "changes", "notes", "body", "description", "rule_log"}


def describe(record: Record) -> str:
    """One line naming a record for lists and messages."""
    if isinstance(record, Lead):
        return " · ".join(x for x in (record.name, record.company, record.owner, record.status) if x)
    if isinstance(record, Customer):
        return f"{record.name} · customer · {record.owner}"
    if isinstance(record, Opportunity):
        return f"{record.title} · {record.stage} · {record.owner}"
    return record.label()


def shown_value(value: object) -> str:
    """A field value as a person reads it: times to the minute, in UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


#: a link field's record type, by the field's name (``opportunity_id``: an opportunity)
LINKED: dict[str, type[Record]] = {f"{cls.noun}_id": cls for cls in BY_TABLE.values()}
#: stored choices as a person says them (the rest: underscores become spaces)
WORDS = {"todo": "to do", "after_sales": "after-sales call", "follow_up": "follow-up", "csat": "CSAT",
         "nps": "NPS"}


def _is_choice(record: Record, name: str) -> bool:
    """Whether the field holds one of a fixed set of words (a ``Literal``)."""
    field = type(record).model_fields.get(name)
    annotation = field.annotation if field is not None else None
    return any(get_origin(arg) is Literal for arg in (annotation, *get_args(annotation)))


def _field_value(store: Store, record: Record, name: str, value: object) -> tuple[str, str]:
    """A field's label and value in words: linked records by name, reps by name, choices
    without underscores; a raw id only for a record that is not here."""
    cls = LINKED.get(name)
    if cls is not None and isinstance(value, str):
        linked = store.get(cls, value)
        return cls.noun, linked.label() if linked is not None else f"(not here: {value[:8]})"
    if name == "owner" and isinstance(value, str):
        reps = {rep.id: rep.name for rep in store.config.reps}
        return "owner", f"{reps[value]} ({value})" if value in reps else value
    if isinstance(value, str) and _is_choice(record, name):
        return name.replace("_", " "), WORDS.get(value, value.replace("_", " "))
    if isinstance(value, list):
        return name.replace("_", " "), ", ".join(map(str, value))
    return name.replace("_", " "), "yes" if value is True else shown_value(value)


def _field_lines(store: Store, record: Record) -> Text:
    text = Text(end="")
    for name, value in record.model_dump().items():
        if name in HIDDEN_FIELDS or name.startswith(PREFIX) or value in (None, "", [], False):
            continue
        label, shown = _field_value(store, record, name, value)
        text.append(f"{label:>18}  ", style="bold")
        text.append_text(plain_text(shown))
        text.append("\n")
    for label, shown in custom_pairs(store.config, record.table, record.__pydantic_extra__ or {}):
        text.append(f"{label:>18}  ", style="bold")
        text.append_text(plain_text(shown))
        text.append("\n")
    notes = getattr(record, "notes", "") or getattr(record, "body", "") or getattr(record, "description", "")
    if notes:
        text.append("\n")
        text.append(str(notes))  # Text.append never parses markup
    return text


#: fields whose changes the history already tells (assigned, an activity) or that change with every edit
UNTOLD_EDITS = {"updated_at", "last_contacted_at", "last_contact_at", "owner", "in_pool", "history",
                "stage_history"}


def _edits(store: Store, record: Record) -> list[tuple[str, str]]:
    """Edits since the record was made, one line per write: the fields it changed, when,
    by whom. The store keeps the newest change stamp of each field (``STAMPS``), so an
    edit shows once for the fields it was the last to change."""
    doc = store.storage.tables[record.table].get(record.id)
    if doc is None:
        return []
    stamps: dict[str, str] = doc[STAMPS]
    custom = declared(store.config, record.table)
    fields_by_stamp: dict[str, list[str]] = {}
    for name, stamp in stamps.items():
        if name != BASE and name not in UNTOLD_EDITS and stamp != stamps.get(BASE):
            label = custom.get(name).label if name in custom else name.removeprefix(PREFIX)
            fields_by_stamp.setdefault(stamp, []).append(label.removesuffix("_id").replace("_", " "))
    me = next((rep.name for rep in store.config.reps if rep.id == store.me), store.me)
    edits = []
    for stamp, names in fields_by_stamp.items():
        parsed = Stamp.parse(stamp)
        when = datetime.fromtimestamp(parsed.wall_ms / 1000, UTC).isoformat()[:16]
        who = me if parsed.replica == store.replica_id else "a teammate"
        edits.append((when, f"edited {', '.join(sorted(names))} (by {who})"))
    return edits


def rule_events(record: Record) -> list[tuple[str, str]]:
    """(when, what) of each thing the team's rules did to the record, by the rule's name."""
    return [(run.at.isoformat()[:16], f"rule “{run.rule}”: {run.did}") for run in getattr(record, "rule_log", [])]


def _timeline(store: Store, record: Record) -> Text:
    """Events of a record, newest first: its history entries and linked activities."""
    events: list[tuple[str, str]] = []
    for entry in getattr(record, "history", []):
        events.append((entry.at.isoformat()[:16], f"{entry.kind.replace('_', ' ')} {entry.to} {entry.note}".strip()))
    for change in getattr(record, "stage_history", []):
        events.append((change.at.isoformat()[:16], f"stage → {change.stage} (by {change.by})"))
    events += rule_events(record)
    events += _edits(store, record)
    link = {Lead: "lead_id", Customer: "customer_id", Opportunity: "opportunity_id",
            Contact: "contact_id"}.get(type(record))
    if link:
        for doc in store.links(Activity, link)[link].get(record.id, []):
            activity = store.model_of(Activity, doc)
            line = f"{activity.kind}: {activity.subject or activity.body[:60]} ({activity.owner})"
            events.append((activity.at.isoformat()[:16], line))
    text = Text(end="")
    for when, line in sorted(events, reverse=True)[:200]:
        text.append(when.replace("T", " ") + "  ", style="bold")
        text.append_text(plain_text(line))
        text.append("\n")
    return text or Text("No history yet.", style="italic")


class RecordScreen(DetailScreen):
    """All fields and the history of one record."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="record.close"),
                Binding("e", "edit", "Edit", id="record.edit"), *UNDO_KEYS, HELP_KEY]
    DEFAULT_CSS = """
    RecordScreen { align: center middle; }
    RecordScreen > VerticalScroll {
        width: 90; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    RecordScreen .record-title { text-style: bold; margin-bottom: 1; }
    RecordScreen .record-section { text-style: bold; margin-top: 1; color: $primary; }
    """

    def __init__(self, store: Store, table: str, record_id: str) -> None:
        super().__init__()
        self.store, self.table, self.record_id = store, table, record_id

    @property
    def record(self) -> tuple[str, str]:
        return self.table, self.record_id

    def body(self) -> ComposeResult:
        record = self.store.get(BY_TABLE[self.table], self.record_id)
        with VerticalScroll():
            if record is None:
                yield Static("This record no longer exists.")
                return
            yield Static(plain(f"{record.noun.title()}: {record.label()}"), classes="record-title")
            yield Static(_field_lines(self.store, record))
            duplicates = (self.store.duplicates_of(record.model_dump(), exclude_id=record.id)
                          if isinstance(record, Lead) else [])
            if duplicates:
                yield Static("Possible duplicates", classes="record-section")
                yield Static(plain_lines(describe(d) for d in duplicates))
            yield Static("History", classes="record-section")
            yield Static(_timeline(self.store, record))
            yield Static(plain("e: edit · esc: close" if self.editable() else "esc: close"),
                         classes="record-section")

    def shows(self, changes: Changes) -> bool:
        return self.record_id in changes.ids(self.table) or changes.touches("activities")

    def action_close(self) -> None:
        self.dismiss(None)

    def editable(self) -> bool:
        """Leads have the lead tab's form; the others one of ``FORMS`` (an activity has none)."""
        return BY_TABLE[self.table] is Lead or BY_TABLE[self.table] in FORMS

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``e`` only where there is a form (the footer shows only keys that work)."""
        return self.editable() if action == "edit" else True

    def action_edit(self) -> None:
        """Edit this record over its details, which show it as saved when the form closes;
        leads with the lead tab's own form."""
        if BY_TABLE[self.table] is Lead:
            self.app.edit_lead(self.record_id)  # type: ignore[attr-defined]
        elif self.editable():
            self.app.edit_record(BY_TABLE[self.table], self.record_id)  # type: ignore[attr-defined]


class DuplicateScreen(ModalScreen[str | None]):
    """A new lead matches existing records: open one, add anyway, or go back."""

    BINDINGS = [
        Binding("escape", "back", "Back to the form", id="duplicate.back"),
        Binding("ctrl+a", "add", "Add anyway", id="duplicate.add"),
    ]
    DEFAULT_CSS = """
    DuplicateScreen { align: center middle; }
    DuplicateScreen > Vertical {
        width: 80; max-width: 100%; height: auto; border: thick $warning; background: $surface; padding: 0 1;
    }
    DuplicateScreen OptionList { height: auto; max-height: 12; }
    """

    def __init__(self, matches: Sequence[Record]) -> None:
        super().__init__()
        self.matches = list(matches)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain("This looks like someone Dealdeck already has:"))
            yield OptionList(*[Option(plain(describe(m)), id=f"{m.table}:{m.id}") for m in self.matches])
            yield Static(plain("enter: open it · ctrl+a: add the new lead anyway · esc: back to the form"))
        yield keys_footer()

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(f"open:{event.option.id}")

    def action_add(self) -> None:
        self.dismiss("add")

    def action_back(self) -> None:
        self.dismiss(None)
