"""Small modal dialogs, each returning its answer through ``dismiss``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.text import plain

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64; max-width: 100%; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .dialog-title {{ text-style: bold; margin-bottom: 1; }}
{name} .dialog-error {{ color: $error; height: auto; }}
{name} OptionList {{ height: auto; max-height: 16; }}
"""

#: a record's detail page. Opaque on purpose: a see-through modal makes Textual
#: re-render the whole tab beneath it on every frame.
DETAIL_CSS = """
{name} {{ align: center middle; background: $background; }}
{name} > VerticalScroll {{
    width: {width}; max-width: 100%; height: 95%; border: thick $primary; background: $surface; padding: 0 1;
}}
{name} .detail-title {{ text-style: bold; }}
{name} .detail-section {{ text-style: bold; margin-top: 1; color: $primary; }}
{name} .detail-risk {{ color: $health-risk; }}
{name} .detail-keys {{ margin-top: 1; color: $text-muted; }}
{name} OptionList {{ height: auto; max-height: 10; }}
"""


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmScreen")

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question, self.detail = question, detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.question), classes="dialog-title")
            if self.detail:
                yield Static(plain(self.detail))
            yield Static(plain("y / enter: yes    n / esc: no"))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class PickScreen(ModalScreen[Any]):
    """Pick one of ``choices`` ((label, value) pairs); typing narrows the list.

    With ``allow_typed`` the typed text itself can be returned (e.g. a lost reason
    that is not in the configured list).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick.cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="PickScreen")

    def __init__(self, title: str, choices: Sequence[tuple[str, Any]], *, allow_typed: bool = False,
                 placeholder: str = "type to narrow") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.allow_typed = allow_typed
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="dialog-title")
            yield Input(placeholder=self.placeholder, id="pick-filter")
            yield OptionList(id="pick-options")
            yield Static("", classes="dialog-error", id="pick-error")

    def on_mount(self) -> None:
        self._show("")
        self.query_one("#pick-filter", Input).focus()

    def _matches(self, text: str) -> list[tuple[str, Any]]:
        needle = text.casefold().strip()
        return [(label, value) for label, value in self.choices if needle in label.casefold()]

    def _show(self, text: str) -> None:
        options = self.query_one("#pick-options", OptionList)
        options.clear_options()
        options.add_options([Option(plain(label), id=str(i)) for i, (label, _) in
                             enumerate(self._matches(text))])
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#pick-filter")
    def _narrow(self, event: Input.Changed) -> None:
        self._show(event.value)

    def on_key(self, event: Any) -> None:
        options = self.query_one("#pick-options", OptionList)
        if event.key in ("down", "up") and options.option_count:
            step = 1 if event.key == "down" else -1
            options.highlighted = ((options.highlighted or 0) + step) % options.option_count
            event.stop()

    @on(Input.Submitted, "#pick-filter")
    def _submit(self, event: Input.Submitted) -> None:
        options = self.query_one("#pick-options", OptionList)
        matches = self._matches(event.value)
        if options.highlighted is not None and matches:
            self.dismiss(matches[options.highlighted][1])
        elif self.allow_typed and event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.query_one("#pick-error", Static).update(plain("Nothing matches; esc to cancel."))

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        matches = self._matches(self.query_one("#pick-filter", Input).value)
        self.dismiss(matches[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskScreen(ModalScreen[Any]):
    """Ask for one value; ``parse`` turns it into the answer or raises ValueError."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="ask.cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="AskScreen")

    def __init__(self, title: str, *, value: str = "", placeholder: str = "",
                 parse: Callable[[str], Any] = str) -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder, self.parse = title, value, placeholder, parse

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.title_text), classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="ask-input")
            yield Static("", classes="dialog-error", id="ask-error")

    def on_mount(self) -> None:
        self.query_one("#ask-input", Input).focus()

    @on(Input.Submitted, "#ask-input")
    def _submit(self, event: Input.Submitted) -> None:
        try:
            self.dismiss(self.parse(event.value))
        except ValueError as exc:
            self.query_one("#ask-error", Static).update(plain(str(exc)))

    def action_cancel(self) -> None:
        self.dismiss(None)
