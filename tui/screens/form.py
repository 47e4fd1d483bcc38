"""A modal form for any record: fields described by ``Field`` specs, validated
through the pydantic models, with each error shown next to its field.

The form never writes by itself: ``save(values)`` does (through the Store,
which validates), and the form stays open with the messages until it succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from store.dates import HINT, parse_when
from store.errors import StoreError, ValidationFailed
from tui.clock import today
from tui.text import plain, plain_text

Kind = Literal["text", "date", "number", "tags", "choice", "notes", "lookup"]


@dataclass
class Field:
    name: str
    label: str
    kind: Kind = "text"
    #: for "choice": (label, value) pairs; for "lookup": label -> value (type-ahead)
    choices: Sequence[tuple[str, Any]] = ()
    lookup: dict[str, str] = field(default_factory=dict)
    placeholder: str = ""
    required: bool = False


def field_value(spec: Field, raw: Any) -> Any:
    """Turn what was typed into the value the model expects; ValueError with a hint."""
    if spec.kind == "choice":
        return None if raw is Select.NULL else raw
    text = str(raw or "").strip()
    if spec.kind == "notes":
        return str(raw or "")
    if not text:
        if spec.required:
            raise ValueError("required")
        return [] if spec.kind == "tags" else (None if spec.kind in ("date", "lookup", "number") else "")
    if spec.kind == "date":
        return parse_when(text, today())
    if spec.kind == "tags":
        return [tag.strip() for tag in text.replace(";", ",").split(",") if tag.strip()]
    if spec.kind == "number":
        return text.replace(",", "").replace(" ", "")
    if spec.kind == "lookup":
        exact = {k.casefold(): v for k, v in spec.lookup.items()}
        if text.casefold() not in exact:
            raise ValueError("pick one of the suggestions (type to complete, → to accept)")
        return exact[text.casefold()]
    return text


def shown_value(spec: Field, value: Any) -> Any:
    if value is None:
        return Select.NULL if spec.kind == "choice" else ""
    if spec.kind == "tags":
        return ", ".join(value)
    if spec.kind == "lookup":
        return next((k for k, v in spec.lookup.items() if v == value), "")
    if spec.kind == "choice":
        return value
    return str(value)


class FormScreen(ModalScreen[Any]):
    """Returns what ``save`` returned, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True),
    ]
    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > VerticalScroll {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormScreen .form-title { text-style: bold; margin-bottom: 1; }
    FormScreen .form-label { margin-top: 1; color: $text-muted; }
    FormScreen Input, FormScreen SelectCurrent, FormScreen TextArea { background: $primary 20%; }
    FormScreen .empty { display: none; }
    FormScreen .form-error { color: $error; height: auto; }
    FormScreen .form-general { color: $error; height: auto; }
    FormScreen Input, FormScreen Select { width: 100%; }
    FormScreen TextArea { height: 5; }
    FormScreen Horizontal { height: auto; margin-top: 1; }
    FormScreen Button { margin-right: 2; }
    """

    def __init__(self, title: str, fields: Sequence[Field], values: dict[str, Any],
                 save: Callable[[dict[str, Any]], Any], *, hint: str = "") -> None:
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.values = values
        self.save_values = save
        self.hint = hint

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(plain(self.form_title), classes="form-title")
            if self.hint:
                yield Static(plain(self.hint))
            yield Static("", classes="form-general empty", id="form-general")
            for spec in self.fields:
                label = spec.label + (" *" if spec.required else "")
                yield Label(plain(label), classes="form-label")
                yield self._input(spec)
                yield Static("", classes="form-error empty", id=f"error-{spec.name}")
            with Horizontal():
                yield Button("Save  ctrl+s", variant="primary", id="form-save")
                yield Button("Cancel  esc", id="form-cancel")

    def _input(self, spec: Field) -> Input | Select[Any] | TextArea:
        value = shown_value(spec, self.values.get(spec.name))
        widget_id = f"field-{spec.name}"
        if spec.kind == "choice":
            # rich Text: never parsed as markup, and Select can type-to-search it (not Content)
            return Select([(plain_text(label), v) for label, v in spec.choices], value=value, id=widget_id,
                          allow_blank=not spec.required, type_to_search=True, compact=True)
        if spec.kind == "notes":
            return TextArea(str(value), id=widget_id, soft_wrap=True)
        placeholder = spec.placeholder or (HINT if spec.kind == "date" else "")
        suggester = (SuggestFromList(list(spec.lookup), case_sensitive=False)
                     if spec.kind == "lookup" else None)
        return Input(str(value), placeholder=placeholder, id=widget_id, suggester=suggester, compact=True)

    def on_mount(self) -> None:
        first = self.query("Input, Select, TextArea").first()
        first.focus()

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _enter_in_a_field(self) -> None:
        self.action_save()

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in self.fields:
            widget = self.query_one(f"#field-{spec.name}")
            raw = widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]
            try:
                values[spec.name] = field_value(spec, raw)
            except ValueError as exc:
                errors[spec.name] = str(exc)
        return values, errors

    def action_save(self) -> None:
        values, errors = self.collect()
        if not errors:
            try:
                result = self.save_values(values)
            except ValidationFailed as exc:
                errors = dict(exc.errors)
            except StoreError as exc:
                self.show_errors({}, str(exc))
                return
            else:
                self.dismiss(result)
                return
        self.show_errors(errors)

    def show_errors(self, errors: dict[str, str], general: str = "") -> None:
        names = {spec.name for spec in self.fields}
        unplaced = [f"{k}: {v}" for k, v in errors.items() if k not in names]
        summary = "; ".join([*unplaced, general] if general else unplaced)
        general_line = self.query_one("#form-general", Static)
        general_line.update(plain(summary))
        general_line.set_class(not summary, "empty")
        for spec in self.fields:
            message = self.query_one(f"#error-{spec.name}", Static)
            message.update(plain(errors.get(spec.name, "")))
            message.set_class(spec.name not in errors, "empty")
        for spec in self.fields:
            if spec.name in errors:
                self.query_one(f"#field-{spec.name}").focus()
                break
