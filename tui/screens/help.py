"""``?``: every key binding, generated from the bindings themselves (never written twice)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_rows(bindings: Iterable[Binding], keymap: dict[str, str],
                 display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys as the user has them, description) for each binding, once per id."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for binding in bindings:
        key_id = binding.id or binding.action
        if key_id in seen or not binding.description:
            continue
        seen.add(key_id)
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        shown = ", ".join(display(replace(binding, key=key.strip(), key_display=None))
                          for key in keys.split(","))
        rows.append((shown, binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, sections: list[tuple[str, Iterable[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self.sections, self.keymap = sections, keymap

    def compose(self) -> ComposeResult:
        text = Text(end="")
        for title, bindings in self.sections:
            text.append(f"{title}\n", style="bold underline")
            for keys, description in binding_rows(bindings, self.keymap, self.app.get_key_display):
                text.append(f"  {keys:<18}", style="bold")
                text.append(f"{description}\n")
            text.append("\n")
        text.append("Keys can be changed in config.yaml under `keys:` by the action id, "
                    "e.g. `keys: {leads.new: N}`.\n", style="italic")
        with VerticalScroll():
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
