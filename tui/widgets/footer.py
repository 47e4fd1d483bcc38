"""The app's footer: the keys that apply where you are, each one whole."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # Footer's own key widget (not exported by textual.widgets)


class AppFooter(Footer):
    """The keys that apply where you are, each one whole: a tab can have more keys than
    80 columns hold, so the footer shows those that fit, in order, and always ``? Keys``
    (which lists every key), instead of cutting the line mid-word."""

    #: the binding the footer always keeps
    KEEP = "app.help"
    #: the width the keys were last chosen for
    _laid_out_for = 0

    def on_mount(self) -> None:
        self.app.screen_change_signal.subscribe(self, self._screen_changed)

    def on_unmount(self) -> None:
        self.app.screen_change_signal.unsubscribe(self)

    def _screen_changed(self, _screen: object) -> None:
        self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready or self.screen is not self.app.screen:
            return  # a dialog is over this screen: its keys are its own (or none), never ours
        items: dict[str, tuple[Binding, bool, str]] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                items.setdefault(binding.action, (binding, enabled, tooltip))
        room = (self.size.width or self.app.size.width) + 1  # the last key's margin may go past the edge
        room -= sum(self._width(binding) for binding, _, _ in items.values() if binding.id == self.KEEP)
        kept: set[str] = set()
        full = False
        for action, (binding, _, _) in items.items():
            if binding.id == self.KEEP:
                kept.add(action)
            elif not full and self._width(binding) <= room:
                kept.add(action)
                room -= self._width(binding)
            else:
                full = True  # the keys after one that does not fit are left out too, keeping the order
        for action, (binding, enabled, tooltip) in items.items():
            if action in kept:
                key = FooterKey(binding.key, self.app.get_key_display(binding), binding.description,
                                binding.action, disabled=not enabled, tooltip=tooltip)
                # Set, not data-bound as Footer does: a bound key is watched by the footer
                # until ``compact`` changes, which it never does, so every key of every
                # recompose (each slide change) stayed in memory and in the collector's walk.
                key.compact = self.compact
                yield key

    def watch_compact(self) -> None:
        self.refresh(recompose=True)

    def _width(self, binding: Binding) -> int:
        """Cells a key takes in the compact footer: the key, a space, the words, a margin."""
        return cell_len(self.app.get_key_display(binding)) + 1 + cell_len(binding.description) + 1

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._laid_out_for:
            self._laid_out_for = event.size.width
            self.call_after_refresh(self.recompose)
