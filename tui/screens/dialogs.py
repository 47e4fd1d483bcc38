"""Small modal dialogs, each returning its answer through ``dismiss``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import FuzzySearch
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.text import plain

#: Textual's own fuzzy matcher (the command palette's), shared by every picker
_FUZZY = FuzzySearch()


class Hit(NamedTuple):
    """A label that matches what was typed: its index, the matched letters, and whether the
    label or one of its words starts with what was typed (a strong match)."""

    index: int
    offsets: Sequence[int]
    strong: bool


#: this many strong matches fill a picker: the loose ones would sit below what anyone
#: scrolls to, and scoring thousands of them (6k customers) would slow every keystroke
ENOUGH = 100


def ranked(query: str, labels: Sequence[str]) -> list[Hit]:
    """The labels that match ``query``, best first: those that start with it, then those
    with a word that starts with it (each in the list's order), then the loose rest (its
    letters in order) as Textual's matcher (the command palette's) ranks them. An empty
    query keeps every label, in order."""
    needle = " ".join(query.casefold().split())
    if not needle:
        return [Hit(index, (), True) for index in range(len(labels))]
    letters = re.compile(".*?".join(re.escape(ch) for ch in needle if not ch.isspace()))
    starts: list[Hit] = []
    words: list[Hit] = []
    loose: list[int] = []
    for index, label in enumerate(labels):
        text = label.casefold()
        at = _word_start(text, needle)
        if at >= 0:
            (words if at else starts).append(Hit(index, range(at, at + len(needle)), True))
        elif letters.search(text):
            loose.append(index)
    strong = starts + words
    if len(strong) >= ENOUGH:
        return strong
    scored = [(score, index, offsets) for index in loose
              for score, offsets in [_FUZZY.match(needle, labels[index])] if score]
    scored.sort(key=lambda hit: -hit[0])  # a stable sort: ties keep the list's order
    return strong + [Hit(index, offsets, False) for _, index, offsets in scored]


def _word_start(text: str, needle: str) -> int:
    """Where ``text`` or one of its words starts with ``needle`` (-1: nowhere)."""
    at = text.find(needle)
    while at > 0 and text[at - 1].isalnum():
        at = text.find(needle, at + 1)
    return at


def highlighted(label: str, offsets: Sequence[int]) -> Content:
    """A label as plain text (never markup) with the matched letters marked."""
    content = plain(label)
    for offset in offsets:
        if offset < len(content.plain) and not content.plain[offset].isspace():
            content = content.stylize("bold reverse", offset, offset + 1)
    return content


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
    """Pick one of ``choices`` ((label, value) pairs); typing narrows the list, best
    matches first (``ranked``).

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
        #: the choices shown, in the order shown
        self.shown: list[tuple[str, Any]] = []

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
        """The choices that match ``text``, best first (the import's field picker opens on
        its current one among them)."""
        return [self.choices[hit.index] for hit in ranked(text, [label for label, _ in self.choices])]

    def _show(self, text: str) -> None:
        """The choices that match ``text``, best first; with ``allow_typed``, the typed text
        itself after the strong matches (a new reason is not taken for a loose match)."""
        hits = ranked(text, [label for label, _ in self.choices])
        prompts = [highlighted(self.choices[hit.index][0], hit.offsets) for hit in hits]
        self.shown = [self.choices[hit.index] for hit in hits]
        typed = text.strip()
        if self.allow_typed and typed and not any(label.casefold() == typed.casefold() for label, _ in self.shown):
            at = sum(1 for hit in hits if hit.strong)
            prompts.insert(at, Content.assemble("use “", plain(typed), "” as typed"))
            self.shown.insert(at, (typed, typed))
        options = self.query_one("#pick-options", OptionList)
        options.clear_options()
        options.add_options([Option(prompt) for prompt in prompts])
        if options.option_count:
            options.highlighted = 0
        self.query_one("#pick-error", Static).update("")

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
        if options.highlighted is not None and self.shown:
            self.dismiss(self.shown[options.highlighted][1])
        else:
            self.query_one("#pick-error", Static).update(plain("Nothing matches; esc to cancel."))

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index][1])

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
