"""Tab 4, the weekly review: the week's changes, the team's figures and trend, the
waterfall, measured stage probabilities, risks and next week, on one scrollable
screen with a week and a rep selector. ``p`` presents it on a projector.

The review is computed off the UI thread from a snapshot of the store (lists of the
stored documents, which the store replaces rather than changes), so switching weeks
or reps never freezes the screen; it is prepared once after start-up.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store.changes import Changes
from store.database import Store
from store.pipeline import money
from store.review import Item, Review, Week
from tui.clock import today
from tui.report import (
    ReviewInput,
    change_lists,
    figure_rows,
    next_week_lists,
    percent,
    review_input,
    review_of,
    risk_lists,
    sparkline,
    stage_rows,
    waterfall_rows,
)
from tui.text import labelled, plain, plain_text

#: how many entries each list shows on the tab (the report has them all)
LIST_LIMIT = 30


def _options(items: list[Any], table: str | None = None) -> list[Option]:
    """Items of a review list as options whose id opens the record."""
    options = []
    for index, item in enumerate(items[:LIST_LIMIT]):
        where, record_id = (item.table, item.record_id) if isinstance(item, Item) else (table, item.id)
        # a deal can move twice in a week: the position keeps the option ids apart
        options.append(Option(plain(f"{item.title} · {item.owner} · {item.detail}"),
                              id=f"{where}:{record_id}:{index}"))
    return options


class ReviewTab(Vertical):
    BINDINGS = [
        Binding("left_square_bracket", "step(-1)", "Week before", id="review.previous"),
        Binding("right_square_bracket", "step(1)", "Week after", id="review.next"),
        Binding("O", "cycle_rep", "Rep", id="review.rep"),
        Binding("p", "present", "Present", id="review.present"),
    ]
    DEFAULT_CSS = """
    ReviewTab { height: 1fr; }
    ReviewTab #review-bar { height: 1; padding: 0 1; background: $panel; }
    ReviewTab #review-body { height: 1fr; padding: 0 1; }
    ReviewTab .review-section { text-style: bold; margin-top: 1; color: $primary; }
    ReviewTab .review-muted { color: $text-muted; }
    ReviewTab OptionList { height: auto; max-height: 8; }
    """

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.week = Week.last_full(today())
        #: None: the team
        self.owner: str | None = None
        self.review: Review | None = None
        #: (week, owner, store version) of the review on show
        self.shown_key: tuple[Any, ...] | None = None
        #: the key being computed: one computation at a time (a thread cannot be stopped,
        #: and two would only slow each other down); the latest request follows it
        self.computing: tuple[Any, ...] | None = None
        #: reviews computed for this store version, so stepping back is instant
        self.cache: dict[tuple[Any, ...], Review] = {}
        #: `p` was pressed before the review was ready: present as soon as it is
        self.present_when_ready = False

    def compose(self) -> ComposeResult:
        yield Static("", id="review-bar")
        yield VerticalScroll(Static("Preparing the review…", classes="review-muted"), id="review-body",
                             can_focus=True)

    def on_mount(self) -> None:
        self.paint_bar()
        # Prepared a moment after start-up, once the other tabs have built their rows.
        self.set_timer(1.5, self.refresh_review)

    # -- computing ---------------------------------------------------------------------------------
    def wanted_key(self) -> tuple[Any, ...]:
        # The store's identity too: filling demo data opens a new Store, counting from 0 again.
        return (self.week, self.owner, self.store.version, id(self.store))

    def apply_changes(self, changes: Changes) -> None:
        """The change feed: on show, the review follows at once; else when next shown (its
        cache is keyed by the store's version)."""
        if changes and self.is_on_screen:
            self.refresh_review()

    def refresh_review(self) -> None:
        """Show the review for the chosen week and rep: at once if it was computed
        already, else computed in a thread (after the one running, if any)."""
        key = self.wanted_key()
        if self.shown_key == key:
            return
        if key in self.cache:
            self.show(self.cache[key], key)
            return
        self.paint_bar(busy=True)
        if self.computing is not None:
            return  # the running computation's end comes back here for the latest choice
        app: Any = self.app
        data = review_input(self.store, today(), deals=app.board_rows(), accounts=app.customer_rows())
        self.computing = key
        self.compute(data, self.week, self.owner, key)

    # A fixed description: the default one is the repr of the arguments, and the snapshot
    # holds every document (seconds of repr at 50k leads).
    @work(thread=True, group="review", description="weekly review")
    def compute(self, data: ReviewInput, week: Week, owner: str | None, key: tuple[Any, ...]) -> None:
        review = review_of(data, week, owner)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.computed, review, key)

    def computed(self, review: Review, key: tuple[Any, ...]) -> None:
        self.computing = None
        if key[2:] == self.wanted_key()[2:]:  # older data: not worth keeping
            self.cache = {k: v for k, v in self.cache.items() if k[2:] == key[2:]}
            self.cache[key] = review
        if key == self.wanted_key():
            self.show(review, key)
        else:
            self.refresh_review()  # the week or rep changed meanwhile

    def show(self, review: Review, key: tuple[Any, ...]) -> None:
        self.review, self.shown_key = review, key
        body = self.query_one("#review-body", VerticalScroll)
        top = body.scroll_y
        with self.app.batch_update():
            body.remove_children()
            body.mount_all(self.sections(review))
        body.scroll_to(y=top, animate=False)
        self.paint_bar()
        if self.present_when_ready:
            self.present_when_ready = False
            self.action_present()

    def paint_bar(self, busy: bool = False) -> None:
        names = {r.id: r.name for r in self.store.config.reps}
        who = "team" if self.owner is None else names.get(self.owner, self.owner)
        state = " · preparing…" if busy else ""
        self.query_one("#review-bar", Static).update(labelled(
            "$week · $who$state · [ ] week · O rep · p present", week=self.week.label(), who=who, state=state))

    # -- what is shown --------------------------------------------------------------------------------
    def sections(self, review: Review) -> list[Any]:
        c, team = review.changes, review.team
        widgets: list[Any] = [
            Static(Content.assemble(
                ("Won this week ", "bold"), f"{len(c.won)} deals, {money(c.won_amount)}   ",
                ("Open pipeline ", "bold"), f"{money(team.pipeline)}   ",
                ("Weighted this quarter ", "bold"), f"{money(team.weighted_quarter)}   ",
                ("Won this quarter ", "bold"), f"{money(team.won_quarter)} of {money(team.target_quarter)}")),
            Static("Leads", classes="review-section"),
            Static(plain(f"new {c.new_leads} · converted {c.converted} · disqualified {c.disqualified} · by source: "
                         + (", ".join(f"{k} {v}" for k, v in c.new_leads_by_source.items()) or "none")
                         + " · by grade: " + (", ".join(f"{k} {v}" for k, v in c.new_leads_by_grade.items())
                                              or "none"))),
        ]
        widgets += [Static("Pipeline waterfall", classes="review-section"), Static(self._waterfall(review)),
                    Static("Figures", classes="review-section"), Static(self._figures(review)),
                    Static("Trend, 12 weeks", classes="review-section"), Static(self._trend(review)),
                    Static("Customers", classes="review-section"), Static(self._customers(review)),
                    Static("Stage probabilities: configured and measured (6 months)", classes="review-section"),
                    Static(self._stages(review))]
        for name, items in change_lists(review):
            widgets += self._list(f"{name} ({len(items)})", items, "opportunities")
        if c.lost_reasons:
            widgets.append(Static(plain("Lost reasons: " + ", ".join(f"{k} {v}" for k, v in c.lost_reasons.items()))))
        for heading, lists in (("Risks", risk_lists(review)), ("Next week", next_week_lists(review))):
            widgets.append(Static(heading, classes="review-section"))
            for name, items in lists:
                widgets += self._list(f"{name} ({len(items)})", items, None, heading=False)
        return widgets

    def _list(self, title: str, items: list[Any], table: str | None, heading: bool = True) -> list[Any]:
        label = Static(plain(title), classes="review-section" if heading else "")
        if not items:
            return [label, Static(plain("none"), classes="review-muted")]
        return [label, OptionList(*_options(items, table), classes="review-list")]

    def _waterfall(self, review: Review) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column()
        table.add_column(justify="right")
        for label, value in waterfall_rows(review):
            table.add_row(label, money(value))
        return table

    def _figures(self, review: Review) -> Table:
        people = [review.team, *review.reps] if review.who == "team" else [review.team]
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("")
        for person in people:  # a rep's name from the config: plain text, never markup
            table.add_column(plain_text(person.who), justify="right")
        columns = [figure_rows(p) for p in people]
        for index, (label, _) in enumerate(columns[0]):
            table.add_row(label, *[col[index][1] for col in columns])
        return table

    def _trend(self, review: Review) -> Content:
        return plain("\n".join(f"{name:<11} {sparkline(values)}  this week {values[-1]:,.0f}"
                               for name, values in review.team.trend.items()))

    def _customers(self, review: Review) -> Content:
        cf = review.customers
        months = ", ".join(f"{m} {n}" for m, n in cf.new_deals_per_month)
        return plain(f"active {cf.active} · churned this quarter {cf.churned} (churn rate {percent(cf.churn_rate)}) · "
                     f"repeat-purchase rate {percent(cf.repeat_rate)} · new opportunities a month: {months}")

    def _stages(self, review: Review) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for title, justify in (("Stage", "left"), ("Configured", "right"), ("Measured", "right")):
            table.add_column(title, justify=justify)  # type: ignore[arg-type]
        for label, configured, measured in stage_rows(review):
            table.add_row(plain_text(label), f"{configured}%", percent(measured))
        return table

    # -- keys -------------------------------------------------------------------------------------------
    def action_step(self, weeks: int) -> None:
        self.week = self.week.step(weeks)
        self.paint_bar()
        self.refresh_review()

    def action_cycle_rep(self) -> None:
        order: list[str | None] = [None, *self.store.config.rep_ids()]
        self.owner = order[(order.index(self.owner) + 1) % len(order)] if self.owner in order else None
        self.paint_bar()
        self.refresh_review()

    def action_present(self) -> None:
        if self.review is None or self.shown_key != self.wanted_key():
            self.app.notify("Preparing the review; the presentation starts when it is ready.")
            self.present_when_ready = True
            self.refresh_review()
            return
        from store.funnel import funnel
        from store.models import Lead, Opportunity
        from tui.screens.present import PresentScreen

        steps = funnel(self.store.rows(Lead), self.store.rows(Opportunity), self.store.config, today=self.week.end,
                       period="quarter", owner=self.owner)
        self.app.push_screen(PresentScreen(self.review, steps))

    @on(OptionList.OptionSelected, ".review-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        table, record_id, _ = str(event.option.id).split(":", 2)
        self.app.open_record(table, record_id)  # type: ignore[attr-defined]
