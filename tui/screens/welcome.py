"""A new user's first screens: who they are and their team folder, then, on an empty
database, demo data, a CSV file of one's own, or start empty."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.screens.dialogs import DIALOG_CSS, ConfirmScreen
from tui.text import plain, plain_lines


class EmptyDatabaseScreen(ConfirmScreen):
    """True: fill it with demo data; False: start empty; None: import a CSV file."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Demo data", id="confirm.yes"),
        Binding("i", "answer(None)", "Import a CSV file", id="welcome.import"),
        Binding("n,escape", "answer(False)", "Start empty", id="confirm.no"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="EmptyDatabaseScreen")

    def __init__(self) -> None:
        super().__init__("This database is empty.",
                         "Fill it with demo data to look around (a team, leads, deals, customers; your "
                         "own data can go in a fresh folder later), import your own CSV file (another "
                         "CRM's export, a spreadsheet), or start empty?")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(plain(self.question), classes="dialog-title")
            yield Static(plain(self.detail))
            yield Static(plain_lines(["", "y / enter  demo data", "i          import a CSV file",
                                      "n / esc    start empty"]))

    def action_answer(self, answer: bool | None) -> None:  # type: ignore[override]
        self.dismiss(answer)


@dataclass(frozen=True)
class FirstRun:
    """What a new user said: who they are, and the team folder (None: alone for now)."""

    name: str
    rep_id: str
    email: str
    team: Path | None


def rep_id_of(name: str, email: str = "") -> str:
    """A rep id from a name: its first word, lower-case ASCII letters and digits (``ana``);
    for a name with none (李娜), the e-mail's local part (``li.na``)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = re.findall(r"[a-z0-9]+", ascii_name)
    if words:
        return words[0][:32]
    local = re.sub(r"[^a-z0-9_.-]", "", email.split("@")[0].casefold()).lstrip("._-")
    return local[:32] or "me"


class FirstRunScreen(ModalScreen[FirstRun | None]):
    """On a new data folder: who you are, and the team folder to join or to start, before
    any demo data is offered (demo records in a team folder would go to the whole team)."""

    BINDINGS = [Binding("escape", "skip", "Not now", id="welcome.skip"),
                Binding("ctrl+s", "done", "Done", id="welcome.done")]
    DEFAULT_CSS = DIALOG_CSS.format(name="FirstRunScreen") + """
    FirstRunScreen .dialog-title { margin-bottom: 0; }
    FirstRunScreen .dialog-hint { color: $text-muted; margin-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        # The hint under the title: at 80x24 the end of the dialog is below the screen's edge.
        with Vertical():
            yield Static(plain("Welcome to Dealdeck"), classes="dialog-title")
            yield Static(plain("enter: next field · ctrl+s: done · esc: later"),
                         classes="dialog-hint")
            yield Static(plain("Your name (as your team knows you)"))
            yield Input(placeholder="Ana Lima", id="first-name")
            yield Static(plain("Your e-mail (optional: imports match owners by it)"))
            yield Input(placeholder="ana@example.com", id="first-email")
            yield Static(plain("Team folder: one your team already shares (Syncthing, a network share, a git "
                               "clone) to join it, or a new one to start a team; blank: work alone for now"))
            yield Input(placeholder="~/team-crm", id="first-team")
            yield Static("", id="first-error", classes="dialog-error")

    def on_mount(self) -> None:
        self.query_one("#first-name", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "first-team":
            self.focus_next()
            return
        self.go_on()

    def go_on(self) -> None:
        name = self.query_one("#first-name", Input).value.strip()
        email = self.query_one("#first-email", Input).value.strip()
        folder = self.query_one("#first-team", Input).value.strip()
        team = Path(folder).expanduser() if folder else None
        problem = ("Your name, please: your team sees it on every record you own." if not name
                   else f"{team} is a file, not a folder." if team is not None and team.is_file() else "")
        if problem:
            self.query_one("#first-error", Static).update(plain(problem))
            self.query_one("#first-name" if not name else "#first-team", Input).focus()
            return
        self.dismiss(FirstRun(name, rep_id_of(name, email), email, team))

    def action_done(self) -> None:
        self.go_on()

    def action_skip(self) -> None:
        self.dismiss(None)
