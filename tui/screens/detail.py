"""A record's detail screen that stays true: rebuilt in place when the change feed brings
a write to what it shows, keeping where it was scrolled to and the keyboard focus (a
rebuilt screen lost its focus, so PageDown, arrows, End and ? did nothing until Tab).

A modal screen has its own footer and its own ``?``: Textual looks a key up from the
focused widget to the modal screen and no further, so the app's ``?`` does nothing there,
and the footer beneath shows the tab's keys, which do nothing there either."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget

from store.changes import Changes
from tui.header import AppHeader
from tui.widgets.footer import AppFooter

#: ``?`` on a modal screen; the app's id, so rebinding ``app.help`` in config.yaml moves it too
HELP_KEY = Binding("question_mark", "app.help", "Keys", id="app.help")
#: ctrl+z / ctrl+y on a modal screen that is no text input: the app's undo and redo (which a
#: modal would stop), by the app's ids so a rebinding moves them too; the screen's change
#: feed shows the result at once
UNDO_KEYS = [Binding("ctrl+z", "app.undo", "Undo", show=False, id="app.undo"),
             Binding("ctrl+y", "app.redo", "Redo", show=False, id="app.redo")]


def keys_footer() -> Widget:
    """A modal screen's footer: its own keys, and always ``? Keys``."""
    return AppFooter(compact=True, show_command_palette=False)


def details_header(app: App[object]) -> AppHeader:
    """The app's header on a details screen (an opaque one hides the tabs' header): the
    same parts as the tabs' one, kept current by the app's ``paint_header``."""
    header = AppHeader()
    header.styles.dock = "top"
    for below in app.screen_stack[0].query(AppHeader):
        header.parts = below.parts
    return header


class DetailScreen(ModalScreen[None]):
    """A modal of one ``VerticalScroll`` (``body``) and its footer; subclasses say which
    tables they show, and end their ``BINDINGS`` with ``HELP_KEY`` (last, as on the tabs)."""

    def compose(self) -> ComposeResult:
        yield details_header(self.app)
        yield from self.body()
        yield keys_footer()

    @property
    def record(self) -> tuple[str, str]:
        """The table and id of the record this screen is about."""
        raise NotImplementedError

    def body(self) -> ComposeResult:
        """The ``VerticalScroll`` with what the screen shows."""
        raise NotImplementedError

    def back_to(self, table: str, record_id: str) -> bool:
        """Close this screen if the one beneath it is about that record (this one was
        opened from it): back there, instead of opening it again over this one."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 and stack[-1] is self else None
        if isinstance(below, DetailScreen) and below.record == (table, record_id):
            self.dismiss(None)
            return True
        return False

    def shows(self, changes: Changes) -> bool:
        """Whether ``changes`` reach what this screen shows."""
        raise NotImplementedError

    def apply_changes(self, changes: Changes) -> None:
        if changes.everything or self.shows(changes):
            self.rebuild()

    def rebuild(self) -> None:
        """Compose again, then scroll back to where it was and take the focus."""
        scrolls = self.query(VerticalScroll)
        y = scrolls.first().scroll_y if scrolls else 0.0
        focused_scroll = self.focused is None or isinstance(self.focused, VerticalScroll)
        self.refresh(recompose=True)
        self.call_after_refresh(self._restore, y, focused_scroll)

    def _restore(self, y: float, focus: bool) -> None:
        scrolls = self.query(VerticalScroll)
        if not scrolls:
            return
        scroll = scrolls.first()
        scroll.scroll_to(y=y, animate=False, immediate=True)
        if focus or self.focused is None:
            scroll.focus()
