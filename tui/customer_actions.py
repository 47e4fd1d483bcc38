"""The customer tab's list actions: marks for bulk actions (``tui.bulk``), assigning an
owner, tagging, saved segments (``S`` or ``V`` picks one, ``W`` saves the filter and sort)
and the CSV export. A bulk action is one commit and one undo entry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store import bulk
from store.config import SavedSegment
from store.customers import CustomerRow
from store.models import Customer
from tui import views
from tui.bulk import csv_path, rep_name, run_write, tag_name
from tui.screens.dialogs import AskScreen, PickScreen
from tui.text import counted, labelled

if TYPE_CHECKING:
    from tui.bulk import Marks
    from tui.tabs.customers import CustomerFilter
    from tui.widgets.table import VirtualTable


class CustomerListActions:
    """Mixed into ``CustomersTab``."""

    store: Any
    app: Any
    marks: Marks
    filter: CustomerFilter
    table: VirtualTable[CustomerRow]
    rows_by_id: dict[str, CustomerRow]

    def current(self) -> CustomerRow | None: ...
    def show_rows(self, keep_id: str | None = None) -> None: ...
    def changed(self, customer_id: str | None = None) -> None: ...
    def owner_id(self) -> str | None: ...
    def set_filter(self, **changes: Any) -> None: ...

    # -- marks ----------------------------------------------------------------------------------
    def action_mark(self) -> None:
        row = self.current()
        if row is not None:
            self.marks.toggle(row.id)
            if self.table.current is row:
                self.table.action_cursor(1)
            self.show_rows()

    def action_mark_all(self) -> None:
        self.marks.toggle_all(row.id for row in self.table.rows)
        self.show_rows()

    def targets(self) -> list[CustomerRow]:
        """The marked customers shown, else the one under the cursor ([] with a warning)."""
        if self.marks:
            rows = self.marks.shown(self.table.rows)
            if not rows:
                self.app.notify(f"The filter hides all {counted(len(self.marks.ids), 'marked customer')}: "
                                "change it, or esc clears the marks.", severity="warning")
            return rows
        row = self.current()
        if row is None:
            self.app.notify("No customer selected.", severity="warning")
        return [row] if row is not None else []

    def _what(self, rows: list[CustomerRow]) -> str:
        return counted(len(rows), "customer") if self.marks else rows[0].name

    def _bulk(self, write: Any, rows: list[CustomerRow], *args: Any, label: str) -> None:
        if run_write(self.app, write, self.store, [r.id for r in rows], *args, label=label) is None:
            return
        self.marks.clear()
        self.changed()
        self.app.notify(f"Done: {label}. ctrl+z undoes it.", markup=False)

    # -- owner and tags -------------------------------------------------------------------------
    def action_assign(self) -> None:
        rows = self.targets()
        if not rows:
            return
        what = self._what(rows)
        reps = [(f"{r.name} ({r.id})", r.id) for r in self.store.config.reps]

        def chosen(rep: str | None) -> None:
            if rep:
                self._bulk(bulk.assign_customers, rows, rep, label=f"assign {what} to {rep_name(self.store, rep)}")

        self.app.push_screen(PickScreen(f"Assign {what} to", reps), chosen)

    def action_tag(self) -> None:
        rows = self.targets()
        if not rows:
            return
        what = self._what(rows)

        def chosen(tag: str | None) -> None:
            if tag:
                self._bulk(bulk.tag_records, rows, Customer, tag, label=f"tag {what} #{tag}")

        self.app.push_screen(AskScreen(f"Tag {what} with", placeholder="e.g. key-account", parse=tag_name), chosen)

    # -- saved segments -------------------------------------------------------------------------
    def action_pick_segment(self) -> None:
        def chosen(segment: SavedSegment | bool) -> None:
            if segment and segment.sort in self.table.sort_keys:
                self.table.sort_by(segment.sort, reverse=segment.reverse)
            self.set_filter(segment=segment or None)

        views.pick_saved(self.app, "Saved segments", self.store.config.segments, "no segment",
                         "No saved segments yet: filter the customers, then W saves the filter as one.", chosen)

    def segment_from_filter(self, name: str) -> SavedSegment:
        """The current filter and sort as a saved segment (a segment in use is the base)."""
        f = self.filter
        base = f.segment.model_dump() if f.segment else {}
        base.update(name=name, sort=self.table.sort_key or "", reverse=self.table.sort_reverse)
        if f.health:
            base["health"] = f.health
        if f.tag:
            base["tag"] = f.tag
        if f.text:
            base["text"] = f.text
        if self.owner_id() is not None:
            base["owner"] = self.owner_id()
        return SavedSegment.model_validate(base)

    def action_save_segment(self) -> None:
        def saved(segment: Any) -> None:
            self.filter = replace(self.filter, segment=segment, text="", tag=None, health=None)
            self.show_rows()

        views.ask_and_save(self.app, self.store, "segments", "Save this filter as a segment named",
                           self.segment_from_filter, saved)

    # -- export ---------------------------------------------------------------------------------
    def action_export_segment(self) -> None:
        """The marked customers shown, else every customer shown, to a CSV file."""
        from store.csv_export import export_customers
        from store.files import private_text

        if self.marks:
            rows = self.targets()
            if not rows:
                return
        else:
            rows = list(self.table.rows)
        name = self.filter.segment.name if self.filter.segment else "customers"
        default = str(Path.home() / f"{file_name(name)}.csv")

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                with private_text(target, newline="") as out:
                    count = export_customers(self.store, [r.id for r in rows], out, facts=self.rows_by_id,
                                             bom=False)  # as `dealdeck export csv` writes
            except OSError as exc:
                self.app.notify(f"Cannot write {target}: {exc.strerror}", severity="error", markup=False)
                return
            self.app.notify(labelled("Wrote $n to $path", n=counted(count, "customer"), path=str(target)))

        self.app.push_screen(AskScreen(f"Export {counted(len(rows), 'customer')} (with their primary contact) to",
                                       value=default, parse=csv_path), chosen)


def file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.casefold()).strip("-") or "customers"
