"""Presentation mode (``p``): the weekly review one slide at a time, for a projector.

Full screen in the projector theme while it lasts; ``space`` / arrows step, ``escape``
leaves. Every slide is laid out for the terminal's size when it is shown, and lists
are cut to the lines there are ("… and 4 more"): nothing scrolls on a slide.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from store.decisions import KIND_LABELS
from store.funnel import FunnelStep
from store.pipeline import money, short_money
from store.review import Figures, Item, Review
from store.review_charts import waterfall_bars
from tui.fitting import pack
from tui.report import GOALS_NOTE, goal_rows, percent
from tui.screens.present_decisions import DECISION_BINDINGS, DecisionActions
from tui.text import counted, fit, plain, plain_lines
from tui.themes import PROJECTOR_THEME
from tui.widgets.bars import thickness_for
from tui.widgets.big_figure import BigFigure
from tui.widgets.funnel import FunnelChart
from tui.widgets.styles import release_removed_widgets
from tui.widgets.waterfall import WaterfallChart

#: lines a slide keeps for its title and the footer line
CHROME_LINES = 5


def money_forms(amount: Decimal) -> tuple[str, str, str]:
    """An amount from most to least precise, for a big figure: 4,213,500, 4.2M, 4M."""
    short = short_money(amount)
    rounded = short if short[-1].isdigit() else f"{float(short[:-1]):.0f}{short[-1]}"
    return money(amount), short, rounded


def bullet_bar(won: Decimal, weighted: Decimal, target: Decimal, width: int) -> str:
    """Won (█) and the weighted forecast after it (▓) along a track (░) of ``width``
    cells, the target a mark (│) across it: the report's bullet bar in a terminal line."""
    top = max(won + weighted, target) or Decimal(1)
    won_cells = int(won / top * width)
    ahead = max(int((won + weighted) / top * width), won_cells)
    cells = ["█"] * won_cells + ["▓"] * (ahead - won_cells) + ["░"] * (width - ahead)
    if target:
        cells[min(int(target / top * width), width - 1)] = "│"
    return "".join(cells)


def cut(lines: list[str], room: int) -> list[str]:
    """At most ``room`` lines; the last one says how many were left out."""
    if len(lines) <= room:
        return lines
    keep = max(room - 1, 0)
    return [*lines[:keep], f"… and {len(lines) - keep} more"]


def item_lines(items: list[Any]) -> list[list[str]]:
    """Each review item as its parts (title, owner, detail), for ``wrap_items``."""
    return [[i.title, i.owner, i.detail] for i in items]


def item_block(parts: list[str], width: int) -> list[str]:
    """One item on one line, or when too wide on more, broken between its parts (a part
    wider than a line between its words, never inside a word or a figure); the lines
    after the first are indented past the item's marks (``marks``), so that each item reads
    as one."""
    first = next((part for part in parts if part), "")
    indent = " " * (2 + len(first) - len(first.lstrip("▶✓ ")))
    lines: list[str] = []
    for line in pack([part for part in parts if part], width - len(indent)):
        lines += textwrap.wrap(line, width - len(indent), break_long_words=False, break_on_hyphens=False) or [""]
    return [lines[0], *(f"{indent}{line}" for line in lines[1:])] if lines else []


def wrap_items(items: list[list[str]], width: int, room: int) -> list[str]:
    """As many whole items as fit ``room`` lines of ``width``; a last line says how many
    were left out ("… and 4 more")."""
    return _wrapped(items, width, room)[0]


def _wrapped(items: list[list[str]], width: int, room: int) -> tuple[list[str], int]:
    """``wrap_items``'s lines and how many items they show whole."""
    lines: list[str] = []
    for index, parts in enumerate(items):
        block, left = item_block(parts, width), len(items) - index
        if len(lines) + len(block) + (1 if left > 1 else 0) > room:
            lines.append(f"… and {left} more")
            return lines, index
        lines += block
    return lines, len(items)


def wrap_window(items: list[list[str]], width: int, room: int, picked: int) -> list[str]:
    """``wrap_items`` from the first item that keeps the picked one in view; a first line
    says how many items are above it ("… 3 above")."""
    # An item takes a line at least: starting further up than ``room`` items, it is never in view.
    for first in range(max(picked - room, 0), picked + 1):
        above = [f"… {first} above"] if first else []
        lines, shown = _wrapped(items[first:], width, room - len(above))
        if first + shown > picked or first == picked:
            return above + lines
    return wrap_items(items, width, room)


class Slide(Vertical):
    DEFAULT_CSS = """
    Slide { padding: 1 2; }
    Slide .slide-title { text-style: bold; color: $primary; height: 1; margin-bottom: 1; }
    Slide .slide-label { color: $text; height: auto; }
    Slide .slide-summary { color: $text; height: auto; margin-top: 1; }
    Slide .headline { height: 1fr; }
    Slide .headline BigFigure { color: $accent; text-style: bold; }
    Slide .headline.centred .slide-label { text-align: center; }
    Slide .headline.centred BigFigure { content-align: center middle; }
    """


class PresentScreen(DecisionActions, Screen[None]):
    BINDINGS = [
        Binding("space,right,l,pagedown,enter", "step(1)", "Next", id="present.next"),
        Binding("left,h,backspace,pageup", "step(-1)", "Back", id="present.back"),
        Binding("escape,q,p", "leave", "Leave", id="present.leave"),
        *DECISION_BINDINGS,
    ]
    DEFAULT_CSS = """
    PresentScreen { background: $background; }
    PresentScreen #slide-footer { dock: bottom; height: 1; padding: 0 2; color: $text-muted; }
    """

    def __init__(self, review: Review, funnel_steps: list[FunnelStep] | None = None) -> None:
        super().__init__()
        self.review = review
        self.funnel_steps = funnel_steps or []
        self.index = 0
        self.slides: list[tuple[str, Callable[[], ComposeResult]]] = self.slide_list()
        self.rep_slides = {figures.who for figures in review.reps}
        self._previous_theme = ""
        self.decidable: list[Item] = []
        self.picked = 0
        self.notice = ""

    def slide_list(self) -> list[tuple[str, Callable[[], ComposeResult]]]:
        slides: list[tuple[str, Callable[[], ComposeResult]]] = [
            ("Headlines", self.headlines), ("Funnel", self.funnel), ("Pipeline waterfall", self.waterfall),
            ("The three figures", self.goals)]
        for figures in self.review.reps:
            slides.append((figures.who, lambda f=figures: self.rep(f)))
        slides += [("At-risk customers", self.at_risk), ("Next week", self.next_week), ("Decisions", self.decisions)]
        return slides

    # -- lifecycle ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Slide(id="slide")
        yield Static("", id="slide-footer")

    def on_mount(self) -> None:
        app: Any = self.app
        self._previous_theme = app.theme
        app.clear_notifications()  # no toasts on the projector
        app.present_theme(PROJECTOR_THEME)
        self.show()

    def on_unmount(self) -> None:
        app: Any = self.app
        app.present_theme(self._previous_theme)

    def on_resize(self) -> None:
        self.show()

    def show(self) -> None:
        title, build = self.slides[self.index]
        slide = self.query_one("#slide", Slide)
        self.decidable = []  # the slide's builder says which of its items a decision can be about
        with self.app.batch_update():
            slide.remove_children()
            release_removed_widgets()
            scope = "" if title in self.rep_slides else f" · {self.review.who}"
            slide.mount(Static(plain(f"{title}{scope} · {self.review.week.label()}"), classes="slide-title"))
            slide.mount_all(list(build()))
        self.query_one("#slide-footer", Static).update(plain(fit(self.footer(), self.size.width - 4)))

    def footer(self) -> str:
        """The slide's number and its keys (those for decisions where it has items to decide
        on), or what was just decided."""
        number = f"{self.index + 1} / {len(self.slides)}"
        if self.notice:
            return f"{number} · {self.notice}"
        if not self.decidable:
            return f"{number} · space / → next · ← back · esc leave"
        deals = any(item.table == "opportunities" for item in self.decidable)
        decide = "n next step · c close date · s stage · t note" if deals else "n next step · t note"
        full = f"{number} · ↑↓ pick · {decide} · space / → next · esc leave"
        return full if len(full) <= self.size.width - 4 else f"{number} · ↑↓ pick · {decide} · esc"

    @property
    def room(self) -> int:
        """Lines a slide's lists may use."""
        return max(self.size.height - CHROME_LINES - 2, 3)

    @property
    def width_for_text(self) -> int:
        """Cells a slide's line may use (less the slide's padding)."""
        return max(self.size.width - 6, 10)

    @property
    def headline_classes(self) -> str:
        """A big figure with its label; centred on a wide screen, where the middle is what
        people look at."""
        return "headline centred" if self.size.width >= 120 else "headline"

    def fitted(self, lines: list[str]) -> Content:
        """One line each, cut to the slide's width: a wrapped line would push the slide
        past the bottom of the screen."""
        return plain_lines(fit(line, self.width_for_text).rstrip() for line in lines)

    def action_step(self, step: int) -> None:
        index = max(0, min(self.index + step, len(self.slides) - 1))
        if index != self.index:
            self.index, self.picked, self.notice = index, 0, ""
        self.show()

    def action_leave(self) -> None:
        self.dismiss(None)

    # -- the slides ------------------------------------------------------------------------------------
    def headlines(self) -> ComposeResult:
        """Three figures, each as large as a third of the slide allows (a quarter of the
        screen's height at 200x55), the most precise form that fits: 4,213,500 or 4.2M."""
        c, team, currency = self.review.changes, self.review.team, self.review.currency
        share = (team.weighted_quarter + team.won_quarter) / team.target_quarter * 100 if team.target_quarter else None
        in_currency = f" ({currency})" if currency else ""
        blocks = [
            ([f"Won this week{in_currency}:", counted(len(c.won), "deal")], money_forms(c.won_amount)),
            ([f"Open pipeline{in_currency}"], money_forms(team.pipeline)),
            (["Quarter: won + weighted, % of target:", f"{short_money(team.won_quarter)} +",
              f"{short_money(team.weighted_quarter)} of {short_money(team.target_quarter)}"],
             (f"{share:.0f}%",) if share is not None else ("-",)),
        ]
        for label, forms in blocks:
            yield Vertical(Static(self.fitted(pack(label, self.width_for_text, sep=" ")), classes="slide-label"),
                           BigFigure(*forms), classes=self.headline_classes)

    def funnel(self) -> ComposeResult:
        c = self.review.changes
        created = counted(len(c.created), "new opportunity", "new opportunities")
        parts = [f"This week: {counted(c.new_leads, 'new lead')},", f"{c.converted} converted,",
                 f"{c.disqualified} disqualified,", f"{created},", f"{len(c.won)} won.", "The quarter's funnel:"]
        summary = pack(parts, self.width_for_text, sep=" ")
        yield Static(self.fitted(summary))
        room = self.room - len(summary)
        chart = FunnelChart()
        chart.steps = self.funnel_steps[: room]
        chart.thickness = thickness_for(room, len(chart.steps))
        yield chart

    def waterfall(self) -> ComposeResult:
        fall = self.review.changes.waterfall
        # Wrapped between its terms, never in one: each term is a figure someone reads out.
        terms = [f"start {money(fall.start)}", f"+ new {money(fall.new)}", f"+ up {money(fall.increased)}",
                 f"− down {money(fall.decreased)}", f"− won {money(fall.won)}", f"− lost {money(fall.lost)}",
                 f"= end {money(fall.end)}"]
        summary = pack(terms, self.width_for_text, sep=" ")
        chart = WaterfallChart()
        chart.bars = waterfall_bars(fall)
        chart.thickness = thickness_for(self.room - len(summary) - 1, len(chart.bars))
        yield chart
        yield Static(self.fitted(summary), classes="slide-summary")

    def goals(self) -> ComposeResult:
        """New opportunities a month, win rate and churn: before and now, which way, and the
        figure now drawn as large as a headline."""
        for name, before, now, change in goal_rows(self.review):
            label = pack([f"{name}:", f"{before} → {now}", f"({change})"], self.width_for_text, sep=" ")
            yield Vertical(Static(self.fitted(label), classes="slide-label"), BigFigure(now),
                           classes=self.headline_classes)
        yield Static(self.fitted(pack(GOALS_NOTE.split(), self.width_for_text, sep=" ")), classes="slide-summary")

    def rep(self, figures: Figures) -> ComposeResult:
        changes = self.review.changes
        groups = [
            [f"activities {figures.activities}", f"leads followed up {figures.leads_followed_up}",
             f"open deals {figures.open_deals}"],
            [f"win rate {percent(figures.win_rate)}", f"lead → opportunity {percent(figures.lead_conversion)}",
             f"average won {money(figures.average_deal) if figures.average_deal is not None else '–'}"],
            [f"pipeline {money(figures.pipeline)}", f"weighted quarter {money(figures.weighted_quarter)}"],
            [f"won this month {money(figures.won_month)} of {money(figures.target_month)}",
             f"quarter {money(figures.won_quarter)} of {money(figures.target_quarter)}"],
        ]
        numbers = [line for group in groups for line in pack(group, self.width_for_text)]
        if figures.target_quarter:  # how far from the quarter's target, at a glance
            share = (figures.won_quarter + figures.weighted_quarter) / figures.target_quarter
            label = f" {share:.0%} of target"
            numbers.append(bullet_bar(figures.won_quarter, figures.weighted_quarter, figures.target_quarter,
                                      max(self.width_for_text - len(label), 10)) + label)
        rep_id = figures.owner
        wins = [[f"won {m.title}", money(m.amount)] for m in changes.won if m.owner == rep_id]
        self.decidable = [i for i in [*self.review.outlook.stale_deals, *self.review.outlook.slipped_deals]
                          if i.owner == rep_id]
        risks = [[title, item.detail] for title, item in zip(self.marked_titles(), self.decidable, strict=True)]
        room, width = self.room - len(numbers) - 2, self.width_for_text
        yield Static(self.fitted(numbers))
        yield Static(plain("Wins and risks"), classes="slide-title")
        won = wrap_items(wins, width, max(room // 2, 1) if risks else max(room, 1))
        yield Static(self.fitted(won + wrap_window(risks, width, max(room - len(won), 1), self.picked)
                                 or ["No wins or risks this week."]))

    def at_risk(self) -> ComposeResult:
        self.decidable = list(self.review.outlook.at_risk_customers)
        items = [[title, item.owner, item.detail]
                 for title, item in zip(self.marked_titles(), self.decidable, strict=True)]
        yield Static(self.fitted(wrap_window(items, self.width_for_text, self.room, self.picked)
                                 or ["No customer at risk. Good week."]))

    def next_week(self) -> ComposeResult:
        outlook, width = self.review.outlook, self.width_for_text
        half = max(self.room // 2, 2)
        closing = ["Expected to close:", *wrap_items(item_lines(outlook.closing_next_week), width, half - 1)] \
            if outlook.closing_next_week else ["Nothing expected to close."]
        visits = ["Planned revisits:", *wrap_items(item_lines(outlook.revisits_next_week), width,
                                                   max(self.room - len(closing) - 2, 1))] \
            if outlook.revisits_next_week else ["No revisits planned."]
        yield Static(self.fitted([*closing, "", *visits]))

    def decisions(self) -> ComposeResult:
        """What this review decided, on every replica that has synced since: each item, the
        decision and who took it."""
        names = {rep.id: rep.name for rep in self.app.store.config.reps}
        items = [[line.title, f"{KIND_LABELS[line.kind]}: {line.text}", f"decided by {names.get(line.by, line.by)}"]
                 for line in self.week_decisions()]
        how = ("On a rep's slide (their stalled and slipped deals) or the at-risk customers': ↑↓ pick one, then "
               "n a next step with an owner and a date, c a new close date, s a stage move, t a note.")
        yield Static(self.fitted(wrap_items(items, self.width_for_text, self.room) or [
            "No decisions yet.", "", *pack(how.split(), self.width_for_text, sep=" ")]))
