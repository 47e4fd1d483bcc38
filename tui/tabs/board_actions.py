"""The board's actions on one deal: win, lose, undo a move, forecast category, activity,
follow-up, new and edit (a mixin of ``BoardTab``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from store.dates import parse_when
from store.models import Customer, Opportunity
from store.pipeline import FORECAST_CATEGORIES, DealRow, money
from tui.clock import today
from tui.forms import FORMS, new_values, with_flag, without_blanks
from tui.screens.dialogs import AskScreen, ConfirmScreen, PickScreen
from tui.screens.form import FormScreen
from tui.tabs.board_parts import CATEGORY_LABELS
from tui.text import labelled

if TYPE_CHECKING:
    from tui.tabs.board import BoardTab


class DealActions:
    """What the board does to the selected deal; mixed into ``BoardTab``."""

    def action_win(self: BoardTab) -> None:
        row = self.selected()
        if row is None:
            return
        if row.stage == self.store.config.won_stage.key:
            self.app.notify(labelled("$title is already won.", title=row.title), severity="warning")
            return

        def confirmed(yes: bool | None) -> None:
            if yes and self.run(self.store.win, row.id) is not None:
                self.deal_changed(row.id)
                self._show_won(row.id)

        self.app.push_screen(ConfirmScreen(f"Mark {row.title} won?",
                                           f"{money(row.amount, row.currency)} from {row.customer}. "
                                           "The customer becomes active and its maintenance plan starts."),
                             confirmed)

    def _show_won(self: BoardTab, deal_id: str) -> None:
        deal = self.store.require(Opportunity, deal_id)
        customer = self.store.get(Customer, deal.customer_id)
        if customer is None:
            return
        plan = (f"revisit every {customer.revisit_days} days, next {customer.next_revisit.isoformat()}"
                if customer.next_revisit else "no revisit planned")

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.open_record(Customer.table, customer.id)  # type: ignore[attr-defined]

        self.app.push_screen(ConfirmScreen(f"Won: {deal.title} ({money(deal.amount, deal.currency)})",
                                           f"{customer.name} is an active customer now; {plan}. "
                                           "Open the customer card?"), answer)

    def action_lose(self: BoardTab) -> None:
        row = self.selected()
        if row is None:
            return
        reasons = [(reason, reason) for reason in self.store.config.lost_reasons]

        def chosen(reason: str | None) -> None:
            if reason and self.run(self.store.lose, row.id, reason) is not None:
                self.deal_changed(row.id)
                self.app.notify(labelled("$title lost: $reason (u undoes)", title=row.title, reason=reason))

        self.app.push_screen(PickScreen(f"Lost {row.title}: why?", reasons, allow_typed=True,
                                        placeholder="pick or type a reason"), chosen)

    def action_undo(self: BoardTab) -> None:
        if not self.store.moves:
            self.app.notify("No stage move to undo in this session.", severity="warning")
            return
        move = self.run(self.store.undo_move)
        if move is not None:
            self.deal_changed(move.opportunity_id)
            self.app.notify(labelled("Undone: $title back to $stage", title=move.title,
                                     stage=self._stage_label(move.before)))

    def action_forecast_category(self: BoardTab) -> None:
        row = self.selected()
        if row is None:
            return
        choices = [(f"{CATEGORY_LABELS[c]}{' (stage default)' if c == self._default_category(row) else ''}", c)
                   for c in FORECAST_CATEGORIES]

        def chosen(category: str | None) -> None:
            if category is None:
                return
            value = None if category == self._default_category(row) else category
            if self.run(self.store.set_forecast_category, row.id, value) is not None:
                self.deal_changed(row.id)
                self.app.notify(labelled("$title: forecast $c", title=row.title, c=CATEGORY_LABELS[category]))

        self.app.push_screen(PickScreen(f"Forecast category of {row.title} (now {CATEGORY_LABELS[row.forecast]})",
                                        choices), chosen)

    def _default_category(self: BoardTab, row: DealRow) -> str:
        stage = next((s for s in self.store.config.stages if s.key == row.stage), None)
        return stage.forecast if stage else "pipeline"

    def action_activity(self: BoardTab) -> None:
        row = self.selected()
        if row is not None:
            self.app.log_activity_form(opportunity_id=row.id, title=f"Log activity: {row.title}",  # type: ignore[attr-defined]
                                       after=lambda: self.deal_changed(row.id, touched=True))

    def action_follow_up(self: BoardTab) -> None:
        row = self.selected()
        if row is not None:
            self.ask_follow_up(row.id)

    def ask_follow_up(self: BoardTab, deal_id: str, after: Callable[[], None] | None = None) -> None:
        """Ask for a date; the deal gets one open follow-up task (shown in Today)."""
        deal = self.store.require(Opportunity, deal_id)

        def chosen(when: date | None) -> None:
            if when is not None and self.run(self.store.follow_up_opportunity, deal_id, when) is not None:
                self.app.update_header()  # type: ignore[attr-defined]
                self.app.notify(labelled("Follow up $title on $day (in Today)", title=deal.title,
                                         day=when.isoformat()))
                if after is not None:
                    after()

        self.app.push_screen(AskScreen(f"Follow up {deal.title} on", placeholder="2026-12-01, +3d, tomorrow, next mon",
                                       parse=lambda text: parse_when(text, today())), chosen)

    def action_new(self: BoardTab) -> None:
        def save(values: dict[str, Any]) -> Opportunity:
            return self.store.new(Opportunity, **without_blanks(values))

        self.app.push_screen(FormScreen("New opportunity", FORMS[Opportunity](self.store),
                                        new_values(Opportunity, self.store), save), self._saved)

    def action_edit(self: BoardTab) -> None:
        row = self.selected()
        if row is not None:
            self.edit(row.id)

    def edit(self: BoardTab, deal_id: str, after: Callable[[], None] | None = None) -> None:
        deal = self.store.require(Opportunity, deal_id)

        def save(values: dict[str, Any]) -> Opportunity:
            return self.store.update(Opportunity, deal_id, **values)

        def saved(result: Opportunity | None) -> None:
            self._saved(result)
            if result is not None and after is not None:
                after()

        values = deal.model_dump()
        self.app.push_screen(FormScreen(f"Edit opportunity: {deal.title}",
                                        with_flag(FORMS[Opportunity](self.store), values), values, save), saved)

    def _saved(self: BoardTab, result: Opportunity | None) -> None:
        if result is not None:
            self.deal_changed(result.id)
            self.app.notify(labelled("Saved $title", title=result.title))
