"""A modal form for any record: fields described by ``Field`` specs, validated
through the pydantic models, with each error shown next to its field.

The form never writes by itself: ``save(values)`` does (through the Store,
which validates), and the form stays open with the messages until it succeeds.
Every error shows at once, each at its field and in words (``in_words``): what
cannot be read (a date, a number) and what its record's model refuses are checked
together before anything is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from store.dates import HINT, parse_when
from store.errors import StoreError, ValidationFailed
from store.models import ID_PATTERN
from tui.clock import today
from tui.screens.detail import keys_footer
from tui.screens.dialogs import ConfirmScreen
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
    #: the record model this field is a field of (same name), to check what was typed
    #: with the other fields' errors, before saving
    model: type[BaseModel] | None = None
    #: for a field no model declares (a custom field): the value as stored, or ValueError
    check: Callable[[Any], Any] | None = None

    @property
    def widget_id(self) -> str:
        """The input's id: a custom field's name (``cf.industry``) has a dot, which ids do not."""
        return "field-" + self.name.replace(".", "--")

    @property
    def error_id(self) -> str:
        return "error-" + self.name.replace(".", "--")


#: shapes the models check with a pattern, as a rep would say them
PATTERN_WORDS = {
    r"^[A-Z]{3}$": "a three-letter currency code such as EUR",
    r"^[a-z0-9][a-z0-9_.-]{0,31}$": "a rep id such as ann (small letters, digits, . _ -)",
    ID_PATTERN: "one of the records Dealdeck has",
}

#: pydantic's messages (as ``store.records.field_errors`` passes them on), in words
_MESSAGES: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
    (r"Field required|String should have at least 1 character", lambda m: "required"),
    (r"String should match pattern '(.*)'",
     lambda m: "should be " + PATTERN_WORDS.get(m[1], f"in the form {m[1]}")),
    (r"Input should be a valid integer, got a number with a fractional part",
     lambda m: "should be a whole number, without decimals"),
    (r"Input should be a valid integer.*", lambda m: "should be a whole number, such as 30"),
    (r"Input should be a valid (decimal|number).*", lambda m: "should be a number, such as 12500 or 12,500.50"),
    (r"Input should be a finite number", lambda m: "should be a number, such as 12500 or 12,500.50"),
    (r"Input should be greater than or equal to (\S+)", lambda m: f"should be {m[1]} or more"),
    (r"Input should be greater than (\S+)", lambda m: f"should be more than {m[1]}"),
    (r"Input should be less than or equal to (\S+)", lambda m: f"should be {m[1]} or less"),
    (r"Input should be less than (\S+)", lambda m: f"should be less than {m[1]}"),
    (r"Decimal input should have no more than (\d+) decimal places?",
     lambda m: f"at most {m[1]} digits after the decimal point"),
    (r"Decimal input should have no more than (\d+) digits? in total", lambda m: f"too big: at most {m[1]} digits"),
    (r"Decimal input should have no more than (\d+) digits? before the decimal point",
     lambda m: f"too big: at most {m[1]} digits before the decimal point"),
    (r"String should have at most (\d+) characters?", lambda m: f"too long: at most {m[1]} characters"),
    (r"String should have at least (\d+) characters", lambda m: f"too short: at least {m[1]} characters"),
    (r"List should have at most (\d+) items?.*", lambda m: f"too many: at most {m[1]}"),
    (r"Input should be ('[^']*'(?:(?:, | or )'[^']*')*)",
     lambda m: "should be one of " + m[1].replace("'", "").replace("_", " ")),
    (r"Input should be a valid date.*|Datetimes provided to dates.*", lambda m: f"should be {HINT}"),
    (r"Input should be a valid string", lambda m: "should be text"),
    (r"Input should be a valid boolean.*", lambda m: "should be yes or no"),
    (r"(?:Value error|Assertion failed), (.*)", lambda m: m[1]),
)
_WORDS = [(re.compile(pattern), words) for pattern, words in _MESSAGES]


def in_words(message: str) -> str:
    """A validation message as a rep reads it: pydantic's wording ("String should match
    pattern '^[A-Z]{3}$'") becomes what to type ("should be a three-letter currency code
    such as EUR"); our own messages are words already and pass through."""
    for pattern, words in _WORDS:
        match = pattern.fullmatch(message.strip())
        if match:
            return words(match)
    return message


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(model.model_fields[name].rebuild_annotation())


def model_check(spec: Field, value: Any) -> tuple[Any, str]:
    """``value`` as the field's model reads it, or the first problem in words ("" when none)."""
    if spec.check is not None:
        try:
            return spec.check(value), ""
        except ValueError as exc:
            return value, str(exc)
    if spec.model is None or spec.name not in spec.model.model_fields:
        return value, ""
    try:
        return _adapter(spec.model, spec.name).validate_python(value), ""
    except ValidationError as exc:
        problem = exc.errors()[0]
        words = in_words(problem["msg"])
        where = problem["loc"][:1]
        if spec.kind == "tags" and where and isinstance(where[0], int):
            return value, f"tag {where[0] + 1}: {words}"
        return value, words


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
                yield Static("", classes="form-error empty", id=spec.error_id)
            with Horizontal():
                yield Button("Save  ctrl+s", variant="primary", id="form-save")
                yield Button("Cancel  esc", id="form-cancel")
        yield keys_footer()  # its own: the one beneath shows the tab's keys, which do nothing here

    def _input(self, spec: Field) -> Input | Select[Any] | TextArea:
        value = shown_value(spec, self.values.get(spec.name))
        widget_id = spec.widget_id
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
        #: what each field held when the form opened (``edited``)
        self.start = self.raw_values()

    def raw_values(self) -> dict[str, Any]:
        """What each field holds now, as typed (before any reading)."""
        raw: dict[str, Any] = {}
        for spec in self.fields:
            widget = self.query_one(f"#{spec.widget_id}")
            raw[spec.name] = widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]
        return raw

    def edited(self) -> bool:
        """Whether any field holds something else than when the form opened."""
        return self.raw_values() != self.start

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        """Close; when a field was changed, only once the rep says to discard the changes."""
        if not self.edited():
            self.dismiss(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard your changes?"), answer)

    @on(Input.Submitted)
    def _enter_in_a_field(self) -> None:
        self.action_save()

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The values to save, and every field's problem in one round: what cannot be read
        (a date, a lookup), what the field's model refuses, and what its record's rules
        refuse (a CSAT score is 1 to 5)."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        read: dict[str, Any] = {}  # as the model reads them (a score as a number), for the rules
        raw = self.raw_values()
        for spec in self.fields:
            try:
                values[spec.name] = field_value(spec, raw[spec.name])
            except ValueError as exc:
                errors[spec.name] = str(exc)
                continue
            if values[spec.name] is not None:  # empty: the model's default (new) or no value
                read[spec.name], problem = model_check(spec, values[spec.name])
                if problem:
                    errors[spec.name] = problem
        return values, {**self.rule_errors(read, errors), **errors}

    def rule_errors(self, read: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
        """What the whole-record rules of this form's models (``Record.rules``) say of the
        fields that read well, at the field a rule names when that field has no error yet."""
        found: dict[str, str] = {}
        for model in {spec.model for spec in self.fields if spec.model is not None}:
            names = {spec.name for spec in self.fields if spec.model is model}
            record = {k: v for k, v in {**self.values, **read}.items()
                      if k in model.model_fields and k not in errors}
            for rule in getattr(model, "rules", ()):
                name, _, words = (rule(record) or "").partition(": ")
                if name in names and name not in errors and words:
                    found.setdefault(name, words)
        return found

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
        errors = {name: in_words(message) for name, message in errors.items()}
        names = {spec.name for spec in self.fields}
        unplaced = [message if name == "record" else f"{name.replace('_', ' ')}: {message}"
                    for name, message in errors.items() if name not in names]
        summary = "; ".join([*unplaced, general] if general else unplaced)
        general_line = self.query_one("#form-general", Static)
        general_line.update(plain(summary))
        general_line.set_class(not summary, "empty")
        for spec in self.fields:
            message = self.query_one(f"#{spec.error_id}", Static)
            message.update(plain(errors.get(spec.name, "")))
            message.set_class(spec.name not in errors, "empty")
        for spec in self.fields:
            if spec.name in errors:
                self.query_one(f"#{spec.widget_id}").focus()
                break
