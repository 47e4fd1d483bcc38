"""Tab 4, the weekly review: the week's changes, the team's figures and trend, the
waterfall, measured stage probabilities, risks and next week, on one scrollable
screen with a week and a rep selector. ``p`` presents it on a projector.

The review is computed off the UI thread from a snapshot of the store (lists of the
stored documents, which the store replaces rather than changes), so switching weeks
or reps never freezes the screen; it is prepared once after start-up.
"""

from __future__ import annotations

import gc
from typing import Any

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from store.changes import Changes
from store.database import Store
from store.pipeline import money
from store.review import Item, Review, Week
from store.review_charts import waterfall_bars
from tui.clock import today
from tui.fitting import by_priority, pack
from tui.loading import ALL_TABLES
from tui.report import (
    ReviewInput,
    change_lists,
    figure_rows,
    month_name,
    next_week_lists,
    percent,
    review_input,
    review_of,
    risk_lists,
    sparkline,
    stage_rows,
)
from tui.tabs.board_parts import rate_warning
from tui.text import counted, plain, plain_lines, plain_text
from tui.widgets.styles import release_removed_widgets
from tui.widgets.waterfall import WaterfallChart

#: how many entries each list shows on the tab (the report has them all)
LIST_LIMIT = 30


#: cells a list's border, padding and scroll bar take from the body's text width
LIST_CHROME = 6


def _options(items: list[Any], table: str | None = None, width: int = 200) -> list[Option]:
    """Items of a review list as options whose id opens the record; an item too wide
    for ``width`` takes a second line, broken between its parts (never a stray word)."""
    options = []
    for index, item in enumerate(items[:LIST_LIMIT]):
        where, record_id = (item.table, item.record_id) if isinstance(item, Item) else (table, item.id)
        # a deal can move twice in a week: the position keeps the option ids apart
        options.append(Option(plain_lines(pack([item.title, item.owner, item.detail], width)),
                              id=f"{where}:{record_id}:{index}"))
    return options


#: seconds the data of the last review computed is kept for the next (another week or rep)
KEEP_INPUT_S = 120


class ReviewTab(Vertical):
    #: the review is prepared this long after start-up (when every table is read by then)
    PREPARE_AFTER_S = 1.5
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
    ReviewTab .review-warning { color: $warning; }
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
        #: the data the review reads, and the version of the data it was taken at
        self._input: tuple[tuple[Any, ...], ReviewInput] | None = None
        self._input_timer: Timer | None = None
        #: `p` was pressed before the review was ready: present as soon as it is
        self.present_when_ready = False

    def compose(self) -> ComposeResult:
        yield Static("", id="review-bar")
        yield VerticalScroll(Static("Preparing the review…", classes="review-muted"), id="review-body",
                             can_focus=True)

    def on_mount(self) -> None:
        self.paint_bar()
        # Prepared a moment after start-up, once the other tabs have built their rows.
        self.set_timer(self.PREPARE_AFTER_S, self.refresh_review)

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
        already, else computed in a thread (after the one running, if any), once every
        table is read (``tui.loading``: the app asks again then)."""
        if not self.app.loaded(ALL_TABLES):  # type: ignore[attr-defined]
            return
        key = self.wanted_key()
        if self.shown_key == key:
            return
        if key in self.cache:
            self.show(self.cache[key], key)
            return
        self.paint_bar(busy=True)
        if self.computing is not None:
            return  # the running computation's end comes back here for the latest choice
        self.computing = key
        self.compute(self.input_for(key), self.week, self.owner, key)

    def input_for(self, key: tuple[Any, ...]) -> ReviewInput:
        """What the review reads, taken once for each version of the data: a step to
        another week or rep reuses it (taking it is 0.4 s of the UI thread at 50k leads).
        It is let go a while after its last use (its copy of the activity days is ~30 MB
        at 200k leads)."""
        data_key = (*key[2:], today())
        if self._input is None or self._input[0] != data_key:
            app: Any = self.app
            self._input = data_key, review_input(self.store, today(), deals=app.board_rows(),
                                                 accounts=app.customer_rows())
        if self._input_timer is not None:
            self._input_timer.stop()
        self._input_timer = self.set_timer(KEEP_INPUT_S, self._let_input_go)
        return self._input[1]

    def _let_input_go(self) -> None:
        self._input = self._input_timer = None

    # A fixed description: the default one is the repr of the arguments, and the snapshot
    # holds every document (seconds of repr at 50k leads).
    @work(thread=True, group="review", description="weekly review")
    def compute(self, data: ReviewInput, week: Week, owner: str | None, key: tuple[Any, ...]) -> None:
        review = review_of(data, week, owner)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.computed, review, key)

    def computed(self, review: Review, key: tuple[Any, ...]) -> None:
        self.computing = None
        # The review is kept (the cache, the slides): out of the collector's sight, as the
        # tables are (``tui.loading``). Else each full pass walked it: a slide change now
        # and then took 50 to 100 ms at 50k leads instead of 15. The young generations are
        # collected first, so that little garbage is frozen with it.
        gc.collect(1)
        gc.freeze()
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
        focused = self._focused_list(body)
        with self.app.batch_update():
            body.remove_children()
            release_removed_widgets()
            body.mount_all(self.sections(review))
        body.scroll_to(y=top, animate=False)
        if focused is not None:  # the focused list was rebuilt: its successor keeps the focus
            self.call_after_refresh(self._refocus, *focused)
        self.paint_bar()
        if self.present_when_ready:
            self.present_when_ready = False
            self.action_present()

    def _focused_list(self, body: VerticalScroll) -> tuple[str, int] | None:
        """(which list by name, which line) has the focus in the body; ("", 0): the body."""
        focused = self.app.focused
        if focused is body:
            return "", 0
        if not isinstance(focused, OptionList) or focused not in body.query(OptionList):
            return None
        return focused.name or "", focused.highlighted or 0

    def _refocus(self, name: str, line: int) -> None:
        body = self.query_one("#review-body", VerticalScroll)
        same = [widget for widget in body.query(OptionList) if name and widget.name == name]
        if same:  # the same list for the new week or rep; empty now: the body
            same[0].focus(scroll_visible=False)
            same[0].highlighted = min(line, same[0].option_count - 1)
        else:
            body.focus(scroll_visible=False)

    def on_resize(self) -> None:
        """Laid out again for the new width (which figures fit side by side)."""
        if self.review is not None and self.shown_key is not None:
            self.show(self.review, self.shown_key)

    def paint_bar(self, busy: bool = False) -> None:
        names = {r.id: r.name for r in self.store.config.reps}
        who = "team" if self.owner is None else names.get(self.owner, self.owner)
        parts = [(0, self.week.label()), (0, who), *([(1, "preparing…")] if busy else []),
                 (3, "[ ] week"), (3, "O rep"), (2, "p present")]
        self.query_one("#review-bar", Static).update(plain(by_priority(parts, self.text_width())))

    # -- what is shown --------------------------------------------------------------------------------
    def sections(self, review: Review) -> list[Any]:
        c, team = review.changes, review.team
        headlines = [f"Won this week {counted(len(c.won), 'deal')}, {money(c.won_amount)}",
                     f"Open pipeline {money(team.pipeline)}", f"Weighted this quarter {money(team.weighted_quarter)}",
                     f"Won this quarter {money(team.won_quarter)} of {money(team.target_quarter)}"]
        widgets: list[Any] = [
            # each headline whole on a line: wrapped between them, never inside one
            Static(plain_lines(pack(headlines, self.text_width(), sep="   ")), classes="review-headlines"),
            Static("Leads", classes="review-section"),
            Static(plain_lines(pack([
                f"new {c.new_leads}", f"converted {c.converted}", f"disqualified {c.disqualified}",
                "by source: " + (", ".join(f"{k} {v}" for k, v in c.new_leads_by_source.items()) or "none"),
                "by grade: " + (", ".join(f"{k} {v}" for k, v in c.new_leads_by_grade.items()) or "none")],
                self.text_width()))),
        ]
        if team.without_rate:  # once, by the totals it is missing from
            widgets.insert(1, Static(plain(rate_warning(team.without_rate)), classes="review-warning"))
        widgets += [Static("Pipeline waterfall", classes="review-section"), self._waterfall(review),
                    Static("Figures", classes="review-section"), *self._figures(review),
                    Static("Trend, 12 weeks: the first, the line, this week", classes="review-section"),
                    Static(self._trend(review)), *self._monthly_trend(review),
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
        # named by the list, not its count: focus comes back to it after a rebuild
        return [label, OptionList(*_options(items, table, self.text_width() - LIST_CHROME), classes="review-list",
                                  name=title.rsplit(" (", 1)[0])]

    def _waterfall(self, review: Review) -> WaterfallChart:
        chart = WaterfallChart()
        chart.bars = waterfall_bars(review.changes.waterfall)
        return chart

    def text_width(self) -> int:
        """Cells a line of the body may use (less its padding and scroll bar)."""
        return max((self.size.width or 80) - 4, 20)

    def _figures(self, review: Review) -> list[Any]:
        table, hidden = self._figure_table(review)
        widgets: list[Any] = [Static(table)]
        if hidden:
            widgets.append(Static(plain(f"Not shown at this width: {', '.join(hidden)} (O shows one rep)"),
                                  classes="review-muted"))
        return widgets

    def _figure_table(self, review: Review) -> tuple[Table, list[str]]:
        """Team and reps side by side, as many as fit the width whole; and who did not."""
        people = [review.team, *review.reps] if review.who == "team" else [review.team]
        columns = [figure_rows(p, retired=bool(review.team.retired_stage_deals)) for p in people]
        labels = [label for label, _ in columns[0]]
        room = self.text_width() - max(len(label) for label in labels)
        shown = 0
        for person, column in zip(people, columns, strict=True):
            need = 2 + max(len(person.who), *(len(value) for _, value in column))
            if room < need:
                break
            room, shown = room - need, shown + 1
        shown = max(shown, 1)
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("", no_wrap=True)
        for person in people[:shown]:  # a rep's name from the config: plain text, never markup
            table.add_column(plain_text(person.who), justify="right", no_wrap=True)
        for index, label in enumerate(labels):
            table.add_row(label, *[col[index][1] for col in columns[:shown]])
        return table, [p.who for p in people[shown:]]

    def _trend(self, review: Review) -> Content:
        # the first week's value before the line, this week's after it
        return plain_lines(f"{name:<11} {values[0]:>7,.0f} {sparkline(values)} this week {values[-1]:,.0f}"
                           for name, values in review.team.trend.items())

    def _monthly_trend(self, review: Review) -> list[Static]:
        if not review.team.monthly_trend:
            return []
        first, last = (month_name(month) for month in (review.months[0], review.months[-1]))
        return [Static(f"Trend, 12 months ({first} – {last}): the first, the line, this month",
                       classes="review-section"),
                Static(plain_lines(f"{name:<11} {values[0]:>7,.0f} {sparkline(values)} this month {values[-1]:,.0f}"
                                   for name, values in review.team.monthly_trend.items()))]

    def _customers(self, review: Review) -> Content:
        cf = review.customers
        months = ", ".join(f"{m} {n}" for m, n in cf.new_deals_per_month)
        return plain_lines(pack([f"active {cf.active}",
                                 f"churned this quarter {cf.churned} (churn rate {percent(cf.churn_rate)})",
                                 f"repeat-purchase rate {percent(cf.repeat_rate)}",
                                 f"new opportunities a month: {months}"], self.text_width()))

    def _stages(self, review: Review) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for title, justify in (("Stage", "left"), ("Configured", "right"), ("Measured", "right")):
            table.add_column(title, justify=justify)  # type: ignore[arg-type]
        for label, configured, measured in stage_rows(review):
            table.add_row(plain_text(label), f"{configured}%", percent(measured))
        return table

    # -- keys -------------------------------------------------------------------------------------------
    def action_step(self, weeks: int) -> None:
        week, this_week = self.week.step(weeks), Week.of(today())
        if week > this_week:  # its figures would be today's: refused, in one line
            self.app.notify(f"{week} has not begun yet: {this_week} is the latest week.", severity="warning",
                            markup=False)
            return
        self.week = week
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
        from tui.screens.present import PresentScreen

        # the quarter's funnel came with the review, from its snapshot, off the UI thread
        self.app.push_screen(PresentScreen(self.review, self.review.funnel))

    @on(OptionList.OptionSelected, ".review-list")
    def _open(self, event: OptionList.OptionSelected) -> None:
        table, record_id, _ = str(event.option.id).split(":", 2)
        self.app.open_record(table, record_id)  # type: ignore[attr-defined]
