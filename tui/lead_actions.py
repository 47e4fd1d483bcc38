"""The lead tab's actions on the selected lead, or on every marked lead that is shown
(``tui.bulk``): assign, claim, grade, tag, follow-up, disqualify, export, convert.
A bulk action is one commit and one undo entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store import bulk
from store.dates import parse_when
from store.models import GRADES, Customer, Lead, Opportunity
from tui.bulk import csv_path, rep_name, run_write, tag_name
from tui.clock import today
from tui.forms import of
from tui.rows import LeadRow
from tui.screens.dialogs import AskScreen, ConfirmScreen, PickScreen
from tui.screens.form import Field, FormScreen
from tui.text import counted, labelled

if TYPE_CHECKING:
    from tui.bulk import Marks
    from tui.widgets.table import VirtualTable


class LeadActions:
    """Mixed into ``LeadsTab``: what its keys do to leads."""

    store: Any
    app: Any
    marks: Marks
    table: VirtualTable[LeadRow]

    def lead_changed(self, lead_id: str) -> None: ...
    def leads_changed(self, lead_ids: list[str]) -> None: ...

    # -- what an action acts on ---------------------------------------------------------------
    def selected(self) -> Lead | None:
        row = self.table.current
        if row is None:
            self.app.notify("No lead selected.", severity="warning")
            return None
        return self.store.get(Lead, row.id)

    def marked(self) -> list[LeadRow] | None:
        """The marked leads the list shows; None when nothing is marked (act on the
        cursor's lead). Marked leads all hidden by the filter: a warning and []."""
        if not self.marks:
            return None
        rows = self.marks.shown(self.table.rows)
        if not rows:
            self.app.notify(f"The filter hides all {counted(len(self.marks.ids), 'marked lead')}: "
                            "change it, or esc clears the marks.", severity="warning")
        return rows

    def targets(self) -> tuple[list[LeadRow], Lead | None]:
        """What an action acts on: the marked leads shown, else the cursor's lead
        (([], None): nothing to act on, and the rep was told why)."""
        rows = self.marked()
        if rows is not None:
            return rows, None
        return [], self.selected()

    def run(self, write: Any, *args: Any, done: str = "", **kwargs: Any) -> Any:
        """Do a store write; show a refusal as one line, never a traceback."""
        result = run_write(self.app, write, *args, **kwargs)
        if result is not None and done:
            self.app.notify(done, markup=False)
        return result

    def run_bulk(self, write: Callable[..., int], rows: list[LeadRow], *args: Any, label: str) -> None:
        """A bulk write on ``rows``: one commit, one undo named ``label``; the marks go."""
        ids = [row.id for row in rows]
        count = run_write(self.app, write, self.store, ids, *args, label=label)
        if count is None:
            return
        self.marks.clear()
        self.leads_changed(ids)
        self.app.notify(f"Done: {label}. ctrl+z undoes it.", markup=False)

    # -- actions ------------------------------------------------------------------------------
    def action_follow_up(self) -> None:
        rows, lead = self.targets()
        if not rows and lead is None:
            return

        def chosen(when: date | None) -> None:
            if when is None:
                return
            if rows:
                self.run_bulk(bulk.follow_up_leads, rows, when,
                              label=f"follow up {counted(len(rows), 'lead')} on {when.isoformat()}")
            elif lead and self.run(self.store.update, Lead, lead.id, next_follow_up=when,
                                   done=f"Follow up {lead.name} on {when.isoformat()}"):
                self.lead_changed(lead.id)

        title = f"Next follow-up for {counted(len(rows), 'lead')}" if rows else f"Next follow-up for {lead.name}"  # type: ignore[union-attr]
        current = lead.next_follow_up.isoformat() if lead and lead.next_follow_up else ""
        self.app.push_screen(AskScreen(title, value=current, placeholder="2026-12-01, +3d, tomorrow, next mon",
                                       parse=lambda text: parse_when(text, today())), chosen)

    def action_assign(self) -> None:
        rows, lead = self.targets()
        if not rows and lead is None:
            return
        reps = [(f"{r.name} ({r.id})", r.id) for r in self.store.config.reps]

        def chosen(rep: str | None) -> None:
            if not rep:
                return
            if rows:
                self.run_bulk(bulk.assign_leads, rows, rep,
                              label=f"assign {counted(len(rows), 'lead')} to {rep_name(self.store, rep)}")
            elif lead and self.run(self.store.assign_lead, lead.id, rep, done=f"{lead.name} assigned to {rep}"):
                self.lead_changed(lead.id)

        what = counted(len(rows), "lead") if rows else lead.name  # type: ignore[union-attr]
        self.app.push_screen(PickScreen(f"Assign {what} to", reps), chosen)

    def action_claim(self) -> None:
        rows = self.marked()
        if rows is None:
            lead = self.selected()
            if lead and self.run(self.store.claim_lead, lead.id, today(), done=f"{lead.name} is yours now"):
                self.lead_changed(lead.id)
            return
        pooled = [row for row in rows if row.in_pool]
        if rows and not pooled:
            self.app.notify("None of the marked leads is in the lead pool.", severity="warning")
        elif pooled:
            self.run_bulk(bulk.claim_leads, pooled, today(),
                          label=f"claim {counted(len(pooled), 'lead')} from the pool")

    def action_grade(self, step: int) -> None:
        rows = self.marked()
        if rows:
            self.run_bulk(bulk.grade_leads, rows, step,
                          label=f"grade {counted(len(rows), 'lead')} {'up' if step < 0 else 'down'}")
            return
        lead = self.selected() if rows is None else None
        if lead is None:
            return
        index = GRADES.index(lead.grade) if lead.grade else len(GRADES) - 1
        grade = GRADES[max(0, min(index + step, len(GRADES) - 1))]
        if self.run(self.store.update, Lead, lead.id, grade=grade):
            self.lead_changed(lead.id)

    def action_tag(self) -> None:
        rows = self.marked()
        if rows is None:
            lead = self.selected()
            rows = [self.table.current] if lead is not None and self.table.current else []
        if not rows:
            return
        what = counted(len(rows), "lead") if len(rows) > 1 else rows[0].name

        def chosen(tag: str | None) -> None:
            if tag:
                self.run_bulk(bulk.tag_records, rows, Lead, tag, label=f"tag {what} #{tag}")

        self.app.push_screen(AskScreen(f"Tag {what} with", placeholder="e.g. expo-2026",
                                       parse=tag_name), chosen)

    def action_disqualify(self) -> None:
        rows, lead = self.targets()
        if not rows and lead is None:
            return
        reasons = [(r, r) for r in self.store.config.disqualify_reasons]
        open_rows = [row for row in rows or [] if row.is_open()]

        def confirmed(reason: str, yes: bool | None) -> None:
            if yes:
                self.run_bulk(bulk.disqualify_leads, open_rows, reason,
                              label=f"disqualify {counted(len(open_rows), 'lead')}: {reason}")

        def chosen(reason: str | None) -> None:
            if not reason:
                return
            if rows:
                skipped = len(rows) - len(open_rows)
                detail = f"{counted(skipped, 'marked lead')} already closed stay as they are." if skipped else ""
                self.app.push_screen(ConfirmScreen(f"Disqualify {counted(len(open_rows), 'lead')}: {reason}?",
                                                   detail), lambda yes: confirmed(reason, yes))
            elif lead and self.run(self.store.disqualify_lead, lead.id, reason,
                                   done=f"{lead.name} disqualified: {reason}"):
                self.lead_changed(lead.id)

        if rows and not open_rows:
            self.app.notify("The marked leads are all converted or disqualified already.", severity="warning")
            return
        what = counted(len(open_rows), "lead") if rows else lead.name  # type: ignore[union-attr]
        self.app.push_screen(PickScreen(f"Disqualify {what}: why?", reasons, allow_typed=True,
                                        placeholder="pick or type a reason"), chosen)

    def action_export(self) -> None:
        """The marked leads shown, else every lead shown, to a CSV file."""
        from store.files import private_text

        rows = self.marked()
        if rows == []:
            return
        rows = rows or list(self.table.rows)
        ids = [row.id for row in rows]

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                with private_text(target, newline="") as out:
                    count = bulk.export_leads(self.store, ids, out)
            except OSError as exc:
                self.app.notify(f"Cannot write {target}: {exc.strerror}", severity="error", markup=False)
                return
            self.app.notify(labelled("Wrote $n to $path", n=counted(count, "lead"), path=str(target)))

        self.app.push_screen(AskScreen(f"Export {counted(len(ids), 'lead')} to", value=str(Path.home() / "leads.csv"),
                                       parse=csv_path), chosen)

    # -- conversion -----------------------------------------------------------------------------
    def action_convert(self) -> None:
        lead = self.selected()
        if lead is None:
            return
        if lead.status in ("converted", "disqualified"):
            self.app.notify(f"{lead.name} is already {lead.status}.", severity="warning", markup=False)
            return
        if lead.status != "qualified":
            def qualify(yes: bool | None) -> None:
                if yes:  # qualified only when the conversion is saved: esc in the form changes nothing
                    self.app.push_screen(self.conversion_form(lead, qualify=True), self._converted)

            self.app.push_screen(ConfirmScreen(f"{lead.name} is {lead.status}, not qualified.",
                                               "Mark the lead qualified and convert it?"), qualify)
            return
        self.app.push_screen(self.conversion_form(lead), self._converted)

    def conversion_form(self, lead: Lead, qualify: bool = False) -> FormScreen:
        customers = {doc["name"]: doc["id"] for doc in self.store.rows(Customer)}
        match = next((r for r in self.store.duplicates_of(lead.model_dump(), exclude_id=lead.id)
                      if isinstance(r, Customer)), None)
        fields = of(Opportunity, [
            Field("existing", "Existing customer (leave empty to create one)", "lookup", lookup=customers),
            Field("customer_name", "New customer name"),
            Field("contact_name", "Contact", required=True),
            Field("title", "Opportunity", required=True),
            Field("amount", "Amount", "number"),
            Field("currency", "Currency", required=True),
            Field("expected_close", "Expected close", "date"),
        ])
        values = {"existing": match.id if match else None, "customer_name": lead.company or lead.name,
                  "contact_name": lead.name, "title": f"{lead.company or lead.name}: first deal",
                  "amount": "0", "currency": self.store.config.currency}

        def save(v: dict[str, Any]) -> Any:
            with self.store.writing():  # qualifying and converting: one commit, one undo
                if qualify:
                    self.store.update(Lead, lead.id, status="qualified")
                return self.store.convert_lead(
                    lead.id, customer_id=v["existing"], customer_name=v["customer_name"] or None,
                    contact_name=v["contact_name"], title=v["title"], amount=v["amount"] or 0,
                    currency=v["currency"], expected_close=v["expected_close"])

        hint = "Creates (or links) the customer and contact and opens the opportunity in its first stage."
        if qualify:
            hint = f"Saving marks {lead.name} qualified. " + hint
        return FormScreen(f"Convert {lead.name}", fields, values, save, hint=hint)

    def _converted(self, result: Any) -> None:
        if result is None:
            return
        self.lead_changed(result.lead.id)
        self.app.notify(labelled("Converted: customer $c, opportunity $o", c=result.customer.name,
                                 o=result.opportunity.title))

