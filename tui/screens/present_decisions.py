"""Decisions in the meeting, without leaving the presentation: on a rep's slide (its stalled
and slipped deals) and on the at-risk customers' slide, ↑↓ pick an item and a key records
what the room decided about it (``store.decisions``): ``n`` a next step with an owner and
a date (a task), ``c`` a new close date, ``s`` a stage move, ``t`` a note. The form opens
over the slide; the slide shows the item as decided, and the last slide lists them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.binding import Binding

from store.decisions import (
    DECIDED,
    KIND_LABELS,
    DecisionLine,
    decide_close_date,
    decide_next_step,
    decide_note,
    decide_stage,
    week_decisions,
)
from store.errors import StoreError
from store.models import Decision, Opportunity, Task
from store.review import Item, Review
from tui.clock import today
from tui.screens.form import Field, FormScreen

#: what each key decides
DECISION_KEYS = {"n": "next_step", "c": "close_date", "s": "stage", "t": "note"}
#: the decisions only a deal can take
FOR_DEALS = frozenset({"close_date", "stage"})


#: PresentScreen's keys for decisions (a mixin's own BINDINGS would not be read)
DECISION_BINDINGS = [
    Binding("down,j", "pick(1)", "Next item", show=False, id="present.pick-next"),
    Binding("up,k", "pick(-1)", "Previous item", show=False, id="present.pick-back"),
    *[Binding(key, f"decide('{kind}')", KIND_LABELS[kind], show=False, id=f"present.decide-{kind}")
      for key, kind in DECISION_KEYS.items()],
]


def marks(items: list[Item], picked: int, decided: set[str]) -> list[str]:
    """Each item's title marked for the room: ▶ the one picked, ✓ one decided on this week."""
    return [("▶ " if index == picked else "  ") + ("✓ " if item.record_id in decided else "") + item.title
            for index, item in enumerate(items)]


class DecisionActions:
    """Mixed into PresentScreen: ``decidable`` is set by the slide on show."""

    review: Review
    app: Any
    #: the items of the slide on show that a decision can be about
    decidable: list[Item]
    picked: int
    #: one line for the footer after a decision (or why none could be taken)
    notice: str
    #: this week's decisions, and the version of the data they were read at
    _decisions_key: tuple[int, str] | None = None
    _decisions: list[DecisionLine]

    def show(self) -> None: ...

    @property
    def week(self) -> str:
        return str(self.review.week)

    def week_decisions(self) -> list[DecisionLine]:
        """This week's decisions (on every replica synced), read again only after a write:
        a scan of every deal and customer would cost a slide change 10 ms at 50k leads."""
        store = self.app.store
        key = (store.version, self.week)
        if self._decisions_key != key:
            self._decisions_key, self._decisions = key, week_decisions(store, self.week)
        return self._decisions

    def marked_titles(self) -> list[str]:
        """The slide's decidable items' titles, the picked one and those decided marked."""
        decided = {line.record_id for line in self.week_decisions()} if self.decidable else set()
        return marks(self.decidable, self.picked, decided)

    def action_pick(self, step: int) -> None:
        if self.decidable:
            self.picked = max(0, min(self.picked + step, len(self.decidable) - 1))
            self.notice = ""
            self.show()

    def action_decide(self, kind: str) -> None:
        if not self.decidable:
            self.notice = "Decisions are taken on a rep's slide (their deals at risk) or the at-risk customers'."
            self.show()
            return
        item = self.decidable[self.picked]
        if kind in FOR_DEALS and item.table != "opportunities":
            self.notice = f"{KIND_LABELS[kind]}: for a deal; {item.title} is a customer."
            self.show()
            return
        try:
            fields, values, save = self._form(kind, item)
        except StoreError as exc:  # deleted meanwhile (a teammate's sync, an undo)
            self.notice = str(exc)
            self.show()
            return

        def done(decision: Decision | None) -> None:
            if decision is not None:
                self.notice = f"Decided: {item.title} · {KIND_LABELS[kind].lower()}: {decision.text}"
                self.app.data_changed()  # the board, the tasks and the header show it
            self.show()

        self.app.push_screen(FormScreen(f"{KIND_LABELS[kind]}: {item.title}", fields, values, save,
                                        hint=f"Decided in the review of {self.week}"), done)

    def _form(self, kind: str, item: Item) -> tuple[list[Field], dict[str, Any], Callable[[dict[str, Any]], Any]]:
        store, week = self.app.store, self.week
        if kind == "next_step":
            store.require(DECIDED[item.table], item.record_id)
            reps = [(rep.name, rep.id) for rep in store.config.reps]
            owner = item.owner if item.owner in store.config.rep_ids() else store.me  # a rep who left: you
            fields = [Field("step", "Next step", required=True, placeholder="Site survey"),
                      Field("owner", "Owner", kind="choice", choices=reps, required=True),
                      Field("due", "Due", kind="date", required=True, model=Task)]
            return fields, {"owner": owner, "due": today()}, lambda v: decide_next_step(
                store, item.table, item.record_id, week, step=v["step"], owner=v["owner"], due=v["due"])
        if kind == "close_date":
            deal = store.require(Opportunity, item.record_id)
            return ([Field("close", "New expected close", kind="date", required=True)], {"close": deal.expected_close},
                    lambda v: decide_close_date(store, item.record_id, week, v["close"]))
        if kind == "stage":
            deal = store.require(Opportunity, item.record_id)
            stages = [(stage.label, stage.key) for stage in store.config.stages]
            return ([Field("stage", "Move to stage", kind="choice", choices=stages, required=True),
                     Field("reason", "Lost reason (when lost)", placeholder="Budget cut")],
                    {"stage": deal.stage}, lambda v: decide_stage(store, item.record_id, week, v["stage"], v["reason"]))
        store.require(DECIDED[item.table], item.record_id)
        return ([Field("note", "Note", required=True, placeholder="What the team decided")], {},
                lambda v: decide_note(store, item.table, item.record_id, week, v["note"]))
