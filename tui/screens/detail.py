"""A record's detail screen that stays true: rebuilt in place when the change feed brings
a write to what it shows, keeping where it was scrolled to and the keyboard focus (a
rebuilt screen lost its focus, so PageDown, arrows, End and ? did nothing until Tab)."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from store.changes import Changes


class DetailScreen(ModalScreen[None]):
    """A modal of one ``VerticalScroll``; subclasses say which tables they show."""

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
