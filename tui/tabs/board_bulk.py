"""The board's marks and bulk actions, and its saved views (a mixin of ``BoardTab``).

``space`` marks the deal under the cursor, ``*`` every deal shown, ``+`` every deal in the
cursor's column; ``m`` then moves every marked deal to one stage, ``b`` offers the other
bulk actions (close date, owner). Each bulk action is one store transaction, so it is one
commit and ``ctrl+z`` undoes all of it at once. ``V`` picks a saved view, ``W`` saves
the board on show as one (``deal_views`` in config.yaml), as on the lead tab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.widgets import Input

from store.config import SavedDealView
from store.dates import parse_when
from store.errors import StoreError
from store.models import Opportunity
from store.pipeline import DealRow
from tui import views
from tui.bulk import Marks, mark_bindings, rep_name
from tui.clock import today
from tui.screens.dialogs import AskScreen, PickScreen
from tui.tabs.board_parts import DealFilter
from tui.text import counted

if TYPE_CHECKING:
    from tui.tabs.board import BoardTab

BULK_BINDINGS = [
    *mark_bindings("board"),
    Binding("plus", "mark_column", "Mark column", show=False, id="board.mark_column"),
    Binding("b", "bulk", "Bulk action", show=False, id="board.bulk"),
    Binding("V", "pick_view", "Saved views", show=False, id="board.views"),
    Binding("W", "save_view", "Save view", show=False, id="board.save_view"),
]


class BoardMarks:
    """Marks, bulk actions and saved views; mixed into ``BoardTab``."""

    marks: Marks

    # -- marking -------------------------------------------------------------------------------
    def marked_rows(self: BoardTab) -> list[DealRow]:  # type: ignore[misc]
        """The marked deals the board shows (a marked deal the filter hides is not acted on)."""
        return self.marks.shown(self.visible_rows())

    def _marks_changed(self: BoardTab) -> None:  # type: ignore[misc]
        self.board.refresh()
        self.table.refresh()
        self.show_summary()

    def action_mark(self: BoardTab) -> None:  # type: ignore[misc]
        row = self.current()
        if row is None:
            return
        self.marks.toggle(row.id)
        if self.in_list:
            self.table.action_cursor(1)
        else:
            self.board.action_card(1)
        self._marks_changed()

    def action_mark_all(self: BoardTab) -> None:  # type: ignore[misc]
        self.marks.toggle_all(row.id for row in self.visible_rows())
        self._marks_changed()

    def action_mark_column(self: BoardTab) -> None:  # type: ignore[misc]
        column = self.board.column
        if column is not None:
            self.marks.toggle_all(row.id for row in column.rows)
            self._marks_changed()

    # -- bulk actions ------------------------------------------------------------------------------
    def action_bulk(self: BoardTab) -> None:  # type: ignore[misc]
        rows = self.marked_rows()
        if not rows:
            self.app.notify("Mark deals first: space marks one, * all shown, + the column.", severity="warning")
            return
        what = counted(len(rows), "marked deal")
        choices: list[tuple[str, Callable[[list[DealRow]], None]]] = [
            ("Move to a stage", self.bulk_move), ("Set the expected close date", self.bulk_close_date),
            ("Give to another rep", self.bulk_owner)]
        self.app.push_screen(PickScreen(f"For the {what}", choices), lambda act: act is not None and act(rows))

    def bulk_move(self: BoardTab, rows: list[DealRow]) -> None:  # type: ignore[misc]
        config = self.store.config
        choices = [(s.label, s.key) for s in config.stages if s.kind != "lost"]

        def chosen(stage: str | None) -> None:
            if stage:
                self.bulk_write(rows, lambda row: self.store.move_stage(row.id, stage),
                                f"to {self._stage_label(stage)}", "Moved")

        self.app.push_screen(PickScreen(f"Move {counted(len(rows), 'deal')} to", choices), chosen)

    def bulk_close_date(self: BoardTab, rows: list[DealRow]) -> None:  # type: ignore[misc]
        def chosen(when: date | None) -> None:
            if when is not None:
                self.bulk_write(rows, lambda row: self.store.update(Opportunity, row.id, expected_close=when),
                                f"to close {when.isoformat()}", "Set")

        self.app.push_screen(AskScreen(f"Expected close of {counted(len(rows), 'deal')}",
                                       placeholder="2026-12-31, +30d, next mon",
                                       parse=lambda text: parse_when(text, today())), chosen)

    def bulk_owner(self: BoardTab, rows: list[DealRow]) -> None:  # type: ignore[misc]
        choices = [(rep.name, rep.id) for rep in self.store.config.reps]

        def chosen(rep: str | None) -> None:
            if rep:
                self.bulk_write(rows, lambda row: self.store.update(Opportunity, row.id, owner=rep),
                                f"to {rep_name(self.store, rep)}", "Gave")

        self.app.push_screen(PickScreen(f"Give {counted(len(rows), 'deal')} to", choices), chosen)

    def bulk_write(self: BoardTab, rows: list[DealRow], write: Callable[[DealRow], Any],  # type: ignore[misc]
                   what: str, verb: str) -> None:
        """Every write in one transaction: all or none of the deals change, in one commit,
        which ``ctrl+z`` undoes as a whole."""
        moves = len(self.store.moves)
        try:
            with self.store.writing():
                for row in rows:
                    write(row)
        except StoreError as exc:
            self.app.notify(f"Nothing changed: {exc}", severity="error", markup=False)
            return
        finally:
            # `u` takes back one move of one deal: a bulk move is undone whole, by ctrl+z
            del self.store.moves[moves:]
        for row in rows:
            self._refresh_row(row.id)
        self.marks.clear()
        self.place_deals()
        self.app.paint_header()  # type: ignore[attr-defined]
        self.app.notify(f"{verb} {counted(len(rows), 'deal')} {what}. ctrl+z undoes all of it.", markup=False)

    # -- saved views -------------------------------------------------------------------------------
    def action_pick_view(self: BoardTab) -> None:  # type: ignore[misc]
        def chosen(view: SavedDealView | bool) -> None:
            if not view:
                self.filter = DealFilter()
            else:
                self.filter = DealFilter(**deal_filter_values(view, self.store.me))
                if view.sort in self.table.sort_keys:
                    self.table.sort_by(view.sort, reverse=view.reverse)
            self.query_one("#board-search", Input).value = self.filter.text
            self.place_deals()

        views.pick_saved(self.app, "Saved board views", self.store.config.deal_views, "no view (my deals)",
                         "No saved views yet: filter and sort the board, then W saves it as one.", chosen)

    def action_save_view(self: BoardTab) -> None:  # type: ignore[misc]
        f, table = self.filter, self.table

        def make(name: str) -> SavedDealView:
            return SavedDealView(name=name, owner=self.owner_id(), at_risk=f.at_risk, show_lost=f.show_lost,
                                 close_month=f.close_month, text=f.text, sort=table.sort_key or "",
                                 reverse=table.sort_reverse)

        def saved(view: object) -> None:
            if isinstance(view, SavedDealView):
                self.filter = replace(self.filter, view=view.name)
                self.show_summary()

        views.ask_and_save(self.app, self.store, "deal_views", "Save this board as a view named", make, saved)


def deal_filter_values(view: SavedDealView, me: str) -> dict[str, Any]:
    """The board filter a saved view sets (``owner`` as the filter names it)."""
    owner = "team" if view.owner is None else "me" if view.owner == me else view.owner
    return {"owner": owner, "at_risk": view.at_risk, "show_lost": view.show_lost, "close_month": view.close_month,
            "text": view.text, "view": view.name}
