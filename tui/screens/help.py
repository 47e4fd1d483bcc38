"""``?``: every key binding, generated from the bindings themselves (never written twice),
in three columns: the keys as the user has them, what they do, and the id that
config.yaml's ``keys:`` rebinds them by."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import NamedTuple

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.screens.detail import keys_footer

#: keys longer than this (the presentation's five ways to go on) get a line of their own
KEYS_WIDTH = 14


class KeyRow(NamedTuple):
    keys: str
    description: str
    id: str


def binding_rows(bindings: Iterable[Binding], keymap: dict[str, str],
                 display: Callable[[Binding], str], seen: set[str] | None = None) -> list[KeyRow]:
    """A row for each binding with a description, once per id (``seen``: the ids listed
    already, in an earlier section), its keys as the user has them."""
    seen = set() if seen is None else seen
    rows: list[KeyRow] = []
    for binding in bindings:
        key_id = binding.id or binding.action
        if key_id in seen or not binding.description:
            continue
        seen.add(key_id)
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        shown = ", ".join(display(replace(binding, key=key.strip(), key_display=None))
                          for key in keys.split(","))
        rows.append(KeyRow(shown, binding.description, binding.id or ""))
    return rows


def key_table(sections: list[tuple[str, list[KeyRow]]]) -> Text:
    """The sections as one text, a line per key (the import screen scrolls to its section's
    line), in columns as wide as their longest entry."""
    rows = [row for _, section in sections for row in section]
    what = max((cell_len(row.description) for row in rows), default=0) + 2
    text = Text(end="")
    text.append(f"  {'key':<{KEYS_WIDTH + 2}}{'what it does':<{what}}id (config.yaml)\n\n",
                style="dim")
    for title, section in sections:
        text.append(f"{title}\n", style="bold underline")
        for row in section:
            if cell_len(row.keys) > KEYS_WIDTH:
                text.append(f"  {row.keys}\n", style="bold")
                text.append(" " * (KEYS_WIDTH + 4))
            else:
                text.append(f"  {row.keys}{' ' * (KEYS_WIDTH + 2 - cell_len(row.keys))}", style="bold")
            text.append(row.description + (" " * (what - cell_len(row.description)) if row.id else ""))
            text.append(f"{row.id}\n", style="dim")
        text.append("\n")
    text.append("Keys can be changed in config.yaml under `keys:` by the id, "
                "e.g. `keys: {leads.new: N}`.\n", style="italic")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, Iterable[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self.sections, self.keymap = sections, keymap

    def compose(self) -> ComposeResult:
        seen: set[str] = set()
        rows = [(title, binding_rows(bindings, self.keymap, self.app.get_key_display, seen))
                for title, bindings in self.sections]
        with VerticalScroll():
            yield Static(key_table([(title, section) for title, section in rows if section]))
        yield keys_footer()  # its own: the one beneath shows keys that do nothing here

    def action_close(self) -> None:
        self.dismiss(None)
