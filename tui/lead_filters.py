"""The lead list's filters (a mixin of ``tui.tabs.leads.LeadsTab``): the quick filters, the
rows that pass them (``base_rows``), and the typed text searched among those."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from store.models import GRADES, LEAD_STATUSES
from tui.owners import next_owner, owner_of
from tui.rows import LeadRow, lead_widths

if TYPE_CHECKING:
    from tui.tabs.leads import LeadsTab

STATUS_FILTERS: tuple[str | None, ...] = (None, "open", *LEAD_STATUSES)
#: what the empty list says: nothing here yet, nothing matching the typed text, or the other filters
NO_LEADS = "No leads yet: n adds one; ctrl+p → Import CSV… brings them from a file."
NO_MATCH_TEXT = "No leads match. esc clears the filter; n adds a lead."
NO_MATCH = "No leads match: O owner, S status, G grade, D overdue, L pool; esc resets."


@dataclass(frozen=True)
class LeadFilter:
    text: str = ""
    grade: str | None = None
    status: str | None = "open"
    #: "me", "team" or a rep id; also the funnel's owner
    owner: str = "me"
    overdue: bool = False
    pool: bool = False
    #: a custom field's quick filter: (field, value, in words)
    custom: tuple[str, str, str] | None = None

    def describe(self) -> str:
        # The pool has no owner: its leads are anyone's to claim, whatever O says.
        parts = ["lead pool" if self.pool else f"owner {self.owner}", f"status {self.status or 'any'}"]
        if self.grade:
            parts.append(f"grade {self.grade}")
        if self.overdue:
            parts.append("overdue only")
        if self.custom:
            parts.append(self.custom[2])
        if self.text:
            parts.append(f"“{self.text}”")
        return " · ".join(parts)


class LeadFiltering:
    """Mixed into ``LeadsTab``: which of its rows show."""

    def owner_id(self: LeadsTab) -> str | None:
        return owner_of(self.filter.owner, self.store)

    def base_predicate(self: LeadsTab) -> Callable[[LeadRow], bool]:
        """Every filter but the text, as one function."""
        f, owner, day = self.filter, self.owner_id(), self.today

        def passes(r: LeadRow) -> bool:
            # A pool lead belongs to nobody until claimed: it shows in the team view and the
            # pool, where the owner filter does not apply but the others do.
            return ((r.in_pool if f.pool else owner is None or (r.owner == owner and not r.in_pool))
                    and (f.grade is None or r.grade == f.grade)
                    and (f.status is None or (r.is_open() if f.status == "open" else r.status == f.status))
                    and (not f.overdue or r.overdue(day))
                    and (f.custom is None or self.custom.matches(r.id, f.custom)))

        return passes

    def matches(self: LeadsTab, row: LeadRow) -> bool:
        text = self.filter.text
        return self.base_predicate()(row) and (not text or text in row.search)

    def base_rows(self: LeadsTab) -> list[LeadRow]:
        """Rows passing the non-text filters, kept until those filters or the rows change,
        so that a keystroke costs one substring test per row."""
        key = self._base_filter_key()
        if self._built_for is not None and key[:2] != self._built_for[:2]:
            self.build_all_rows()  # another owner's rows, or the pool's: not built yet
        if self._base_key != key:
            self._base = list(filter(self.base_predicate(), self.all_rows))
            self._base_key = key
            self.table.want_widths(lead_widths(self._base))  # stays put while typing
        return self._base

    def apply_filter(self: LeadsTab, keep_id: str | None = None) -> None:
        """Show the rows that pass the filter."""
        current = self.table.current
        keep_id = keep_id or (current.id if current else None)
        text = self.filter.text
        visible = list(self._matching(text))  # a copy: the table's rows are its own
        self.table.empty_text = NO_LEADS if not self._docs else NO_MATCH_TEXT if text else NO_MATCH
        kept = self.rows_by_id.get(keep_id) if keep_id else None
        self.table.set_rows(visible, keep_row=kept, presorted=True)
        self.show_summary()

    def _matching(self: LeadsTab, text: str) -> list[LeadRow]:
        """The base rows holding ``text``, in the list's order. Searched among the rows
        holding the longest prefix of it searched before: more letters typed search the
        rows found so far, and a backspace finds its rows found already. The rows found
        for each prefix of the text are kept until the base rows change.

        Searched in the order the rows were made, which is near their order in memory:
        in the list's order (by follow-up, say) every row read is a cache miss, and a
        search of 200k rows took 45 ms instead of 15."""
        base = self.base_rows()
        if self._searched_in is not base:
            self._searched_in, self._searched = base, {"": (base, None)}
        searched = self._searched
        prefix = max((p for p in searched if text.startswith(p)), key=len)
        shown, made = searched[prefix]
        if prefix != text:
            if made is None:
                made = self._in_made_order(base)
                searched[prefix] = (shown, made)
            made = [r for r in made if text in r.search]
            holding = set(made)
            shown = [r for r in shown if r in holding]  # by identity: no row is read
        self._searched = {p: found for p, found in searched.items() if text.startswith(p)}
        self._searched[text] = (shown, made)
        return shown

    def _in_made_order(self: LeadsTab, rows: list[LeadRow]) -> list[LeadRow]:
        if len(rows) == len(self.rows_by_id):  # every row (the whole team's, unfiltered)
            return list(self.rows_by_id.values())
        kept = set(rows)
        return [r for r in self.rows_by_id.values() if r in kept]

    def set_filter(self: LeadsTab, **changes: Any) -> None:
        old = self.filter
        owner_changed = "owner" in changes and changes["owner"] != old.owner
        self.filter = replace(old, **changes)
        self.view = None  # the list is no longer the saved view
        self.apply_filter()
        if owner_changed:
            self.refresh_funnel()

    def action_cycle_grade(self: LeadsTab) -> None:
        order: list[str | None] = [None, *GRADES]
        self.set_filter(grade=order[(order.index(self.filter.grade) + 1) % len(order)])

    def action_cycle_status(self: LeadsTab) -> None:
        order = list(STATUS_FILTERS)
        self.set_filter(status=order[(order.index(self.filter.status) + 1) % len(order)])

    def action_cycle_owner(self: LeadsTab) -> None:
        self.set_filter(owner=next_owner(self.filter.owner, self.store))

    def action_toggle_overdue(self: LeadsTab) -> None:
        self.set_filter(overdue=not self.filter.overdue)

    def action_toggle_pool(self: LeadsTab) -> None:
        self.set_filter(pool=not self.filter.pool)

    def action_custom_filter(self: LeadsTab) -> None:
        self.custom.pick_filter(self.app, lambda chosen: self.set_filter(custom=chosen))
