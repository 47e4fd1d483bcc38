"""The weekly review's weeks and what changed in one: ISO weeks, a deal's stage and amount at
a moment, the pipeline waterfall, and the week's new, advanced, moved back, won, lost,
slipped and changed deals. Pure functions; no I/O (``store.review`` puts the review together).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from store.config import Config
from store.hlc import Stamp, is_stamp
from store.models import FieldChange, LeadEvent, StageChange
from store.pipeline import value_of
from store.records import whole_entries

Doc = Mapping[str, Any]
ZERO = Decimal(0)


# -- weeks ----------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Week:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W47`` (as in ISO 8601); ValueError with a hint otherwise."""
        try:
            year, number = text.strip().upper().split("-W")
            week = cls(int(year), int(number))
            week.start  # noqa: B018  (raises for a week the year does not have)
        except ValueError:
            raise ValueError(f"{text!r} is not a week like 2026-W47") from None
        return week

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number)

    @classmethod
    def last_full(cls, today: date) -> Week:
        """The last week that has ended: the one before this one."""
        return cls.of(today - timedelta(days=7))

    @property
    def start(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> date:
        """The Sunday (inclusive)."""
        return self.start + timedelta(days=6)

    def step(self, weeks: int) -> Week:
        return Week.of(self.start + timedelta(weeks=weeks))

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def label(self) -> str:
        return f"{self} ({self.start.strftime('%d %b')} – {self.end.strftime('%d %b %Y')})"


_KINDS: dict[int, tuple[Config, dict[str, str]]] = {}


def _kind(config: Config, stage: str) -> str:
    """open, won or lost: a stage that has left the config counts as open (cached per
    config: this runs for every deal in every figure)."""
    cached = _KINDS.get(id(config))
    if cached is None or cached[0] is not config:
        cached = (config, {s.key: s.kind for s in config.stages})
        _KINDS[id(config)] = cached
    return cached[1].get(stage, "open")


def _instant(day: date) -> str:
    """Midnight UTC at the start of ``day``, as stored times compare (ISO text)."""
    return datetime.combine(day, time(0), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _iso(value: object) -> str:
    """A stored time as comparable text. Stored times are UTC ISO text ending in Z (the
    models write them so), which orders as the times do."""
    return value if isinstance(value, str) else ""


# -- one deal's history -------------------------------------------------------------------------------


def amount_at(doc: Doc, moment: str) -> Decimal:
    """The deal's amount at ``moment`` (ISO time), rebuilt from its tracked changes."""
    changes = sorted((c for c in whole_entries(doc.get("changes"), FieldChange) if c.get("field") == "amount"),
                     key=lambda c: _iso(c["at"]))
    amount = Decimal(doc.get("amount") or 0)
    if not changes:
        return amount
    before = [c for c in changes if _iso(c["at"]) <= moment]
    if before:
        return Decimal(before[-1].get("new") or 0)
    return Decimal(changes[0].get("old") or 0)


def stage_at(doc: Doc, moment: str) -> str | None:
    """The deal's stage at ``moment``; None before it existed."""
    if _iso(doc["created_at"]) > moment:
        return None
    history = sorted(effective_moves(whole_entries(doc.get("stage_history"), StageChange)), key=lambda c: _iso(c["at"]))
    stage = history[0]["stage"] if history else doc["stage"]
    for change in history:
        if _iso(change["at"]) <= moment:
            stage = change["stage"]
    return stage


@dataclass
class Waterfall:
    """Open pipeline from the start of the week to its end; ``start + new + increased
    - decreased - won - lost == end`` holds exactly, by construction."""

    start: Decimal = ZERO
    new: Decimal = ZERO
    increased: Decimal = ZERO
    decreased: Decimal = ZERO
    won: Decimal = ZERO
    lost: Decimal = ZERO
    end: Decimal = ZERO

    def balances(self) -> bool:
        return self.start + self.new + self.increased - self.decreased - self.won - self.lost == self.end


def _events(doc: Doc, since: str, until: str) -> list[tuple[str, str, Any]]:
    """The deal's stage changes and amount changes in [since, until), oldest first."""
    events: list[tuple[str, str, Any]] = []
    created = _iso(doc["created_at"])
    history = sorted(effective_moves(whole_entries(doc.get("stage_history"), StageChange)), key=lambda c: _iso(c["at"]))
    if since <= created < until:
        events.append((created, "stage", history[0]["stage"] if history else doc["stage"]))
    for change in history:
        at = _iso(change["at"])
        if since <= at < until and at > created:
            events.append((at, "stage", change["stage"]))
    for change in whole_entries(doc.get("changes"), FieldChange):
        at = _iso(change["at"])
        if change.get("field") == "amount" and since <= at < until:
            events.append((at, "amount", Decimal(change.get("new") or 0)))
    # At the same moment the amount changes first: a deal won at its final quote is won at that price.
    return sorted(events, key=lambda e: (e[0], e[1] == "stage"))


def add_to_waterfall(fall: Waterfall, doc: Doc, config: Config, since: str, until: str) -> None:
    """Walk one deal through the week: every euro that enters or leaves the open pipeline
    lands in exactly one column."""
    currency = doc.get("currency") or config.currency

    def value(amount: Decimal) -> Decimal:
        return value_of(amount, currency, config) or ZERO

    def is_open(stage: str | None) -> bool:
        return stage is not None and _kind(config, stage) == "open"

    stage, amount = stage_at(doc, since), amount_at(doc, since)
    open_now = is_open(stage) and _iso(doc["created_at"]) < since
    if open_now:
        fall.start += value(amount)
    for _, kind, new in _events(doc, since, until):
        if kind == "amount":
            if open_now:
                difference = value(new) - value(amount)
                if difference > 0:
                    fall.increased += difference
                else:
                    fall.decreased -= difference
            amount = new
            continue
        kind_of = _kind(config, new)
        if not open_now:
            fall.new += value(amount)  # created or reopened: it enters the pipeline
            open_now = True
        if kind_of == "won":
            fall.won += value(amount)
            open_now = False
        elif kind_of == "lost":
            fall.lost += value(amount)
            open_now = False
    if open_now:
        fall.end += value(amount)


# -- what changed in the week ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DealMove:
    id: str
    title: str
    owner: str
    detail: str
    amount: Decimal


@dataclass
class WeekChanges:
    new_leads_by_source: dict[str, int] = field(default_factory=dict)
    new_leads_by_grade: dict[str, int] = field(default_factory=dict)
    converted: int = 0
    disqualified: int = 0
    created: list[DealMove] = field(default_factory=list)
    advanced: list[DealMove] = field(default_factory=list)
    moved_back: list[DealMove] = field(default_factory=list)
    won: list[DealMove] = field(default_factory=list)
    lost: list[DealMove] = field(default_factory=list)
    lost_reasons: dict[str, int] = field(default_factory=dict)
    slipped: list[DealMove] = field(default_factory=list)
    amount_changes: list[DealMove] = field(default_factory=list)
    waterfall: Waterfall = field(default_factory=Waterfall)

    @property
    def new_leads(self) -> int:
        return sum(self.new_leads_by_source.values())

    @property
    def won_amount(self) -> Decimal:
        return sum((m.amount for m in self.won), ZERO)

    @property
    def lost_amount(self) -> Decimal:
        return sum((m.amount for m in self.lost), ZERO)


def _in(value: object, since: str, until: str) -> bool:
    return isinstance(value, str) and since <= value < until


def effective_moves(history: Sequence[Doc]) -> list[Doc]:
    """Stage changes without undone pairs (a move and the undo that took it back)."""
    history = list(history)  # read once (a stored one may be kept encoded)
    undone = {c.get("undoes") for c in history if c.get("undoes")}
    return [c for c in history if c.get("id") not in undone and not c.get("undoes")]


# -- one lead's history ------------------------------------------------------------------------------


def _set_after(lead: Doc, name: str, moment: str) -> bool:
    """Whether the lead's ``name`` field was last written at or after ``moment``, by its
    per-field change stamp (the sync's ``_s``); with none, by the document's ``updated_at``."""
    stamps = lead.get("_s")
    stamp = stamps.get(name) if isinstance(stamps, Mapping) else None
    if is_stamp(stamp):
        when = datetime.fromtimestamp(Stamp.parse(str(stamp)).wall_ms / 1000, UTC)
        return when.isoformat().replace("+00:00", "Z") >= moment
    return _iso(lead.get("updated_at")) >= moment


def lead_owner_at(lead: Doc, moment: str) -> str:
    """Whose the lead was at ``moment``: the last creation, assignment or claim before it
    (each names its new owner in the lead's history), else its owner now."""
    handed = [e for e in whole_entries(lead.get("history"), LeadEvent)
              if e.get("kind") in ("created", "assigned", "claimed") and e.get("to") and _iso(e["at"]) < moment]
    return str(max(handed, key=lambda e: _iso(e["at"]))["to"]) if handed else str(lead.get("owner") or "")


def lead_grade_at(lead: Doc, config: Config, moment: str) -> str | None:
    """The lead's grade at ``moment``. A regrade is not in the lead's history (nothing
    records the grade it replaced), so this is approximate: a "graded" event before the
    moment, if one was recorded, is exact; a grade set since the moment (its change stamp
    is later) is taken as the one its score gave, as grades are given when a lead is
    made (config.grade_for); a grade untouched since is the grade it had."""
    graded = [e for e in whole_entries(lead.get("history"), LeadEvent)
              if e.get("kind") == "graded" and e.get("to") and _iso(e["at"]) < moment]
    if graded:
        return str(max(graded, key=lambda e: _iso(e["at"]))["to"])
    grade = lead.get("grade")
    if _set_after(lead, "grade", moment) and isinstance(lead.get("score"), int):
        return config.grade_for(lead["score"])
    return str(grade) if grade else None


@dataclass
class LeadWeek:
    """The week's new leads (by source and grade) and its conversions and disqualifications."""

    sources: Counter[str] = field(default_factory=Counter)
    grades: Counter[str] = field(default_factory=Counter)
    converted: int = 0
    disqualified: int = 0


def lead_week(week: Week, config: Config, leads: Iterable[Doc], owner: str | None = None) -> LeadWeek:
    """Each lead as of the week's end: today's reassignments and regrades leave it be."""
    since, until = _instant(week.start), _instant(week.end + timedelta(days=1))
    result = LeadWeek()
    for lead in leads:
        if owner is not None and lead_owner_at(lead, until) != owner:
            continue
        if _in(lead["created_at"], since, until):
            # a lead's source has no history: the one it has now (a source is seldom changed)
            result.sources[lead.get("source") or "other"] += 1
            result.grades[lead_grade_at(lead, config, until) or "ungraded"] += 1
        for event in whole_entries(lead.get("history"), LeadEvent):
            if _in(event["at"], since, until):
                if event["kind"] == "converted":
                    result.converted += 1
                elif event["kind"] == "disqualified":
                    result.disqualified += 1
    return result


def week_changes(week: Week, config: Config, *, leads: Iterable[Doc], opportunities: Iterable[Doc],
                 owner: str | None = None, leads_read: LeadWeek | None = None) -> WeekChanges:
    """``leads_read``: the leads' part counted already (``review_leads``), as ``lead_week``."""
    since, until = _instant(week.start), _instant(week.end + timedelta(days=1))
    result = WeekChanges()
    counted = leads_read if leads_read is not None else lead_week(week, config, leads, owner)
    result.converted, result.disqualified = counted.converted, counted.disqualified
    result.new_leads_by_source = dict(counted.sources.most_common())
    result.new_leads_by_grade = dict(sorted(counted.grades.items()))
    order = {s.key: i for i, s in enumerate(config.stages)}
    labels = {s.key: s.label for s in config.stages}
    reasons: Counter[str] = Counter()
    for doc in opportunities:
        if (owner is not None and doc.get("owner") != owner) or _untouched(doc, since, until):
            continue
        _deal_week(doc, config, since, until, order, labels, result, reasons)
        add_to_waterfall(result.waterfall, doc, config, since, until)
    result.lost_reasons = dict(reasons.most_common())
    return result


def _untouched(doc: Doc, since: str, until: str) -> bool:
    """Made after the week, or closed before it and not moved since: nothing to count."""
    if _iso(doc["created_at"]) >= until:
        return True
    closed = doc.get("closed_at")
    return bool(closed) and _iso(closed) < since and all(
        _iso(c["at"]) < since for c in whole_entries(doc.get("stage_history"), StageChange)) and all(
        _iso(c["at"]) < since for c in whole_entries(doc.get("changes"), FieldChange))


def _deal_week(doc: Doc, config: Config, since: str, until: str, order: Mapping[str, int],
               labels: Mapping[str, str], result: WeekChanges, reasons: Counter[str]) -> None:
    currency = doc.get("currency") or config.currency
    amount = value_of(Decimal(doc.get("amount") or 0), currency, config) or ZERO

    def move(detail: str, value: Decimal = amount) -> DealMove:
        return DealMove(doc["id"], doc["title"], doc.get("owner") or "", detail, value)

    history = sorted(effective_moves(whole_entries(doc.get("stage_history"), StageChange)), key=lambda c: _iso(c["at"]))
    if _in(doc["created_at"], since, until):
        first = history[0]["stage"] if history else doc["stage"]
        result.created.append(move(f"in {labels.get(first, first)}"))
    for before, after in pairwise(history):
        if not _in(after["at"], since, until):
            continue
        kind = _kind(config, after["stage"])
        # Won and lost at the amount of that moment, as the waterfall counts them.
        then = value_of(amount_at(doc, after["at"]), currency, config) or ZERO
        if kind == "won":
            result.won.append(move(f"won from {labels.get(before['stage'], before['stage'])}", then))
        elif kind == "lost":
            reason = doc.get("lost_reason") or "no reason"
            reasons[reason] += 1
            result.lost.append(move(f"lost: {reason}", then))
        elif order.get(after["stage"], 0) > order.get(before["stage"], 0):
            result.advanced.append(move(f"{labels.get(before['stage'], '?')} → {labels.get(after['stage'], '?')}"))
        elif order.get(after["stage"], 0) < order.get(before["stage"], 0):
            result.moved_back.append(move(f"{labels.get(before['stage'], '?')} → {labels.get(after['stage'], '?')}"))
    if len(history) == 1 and _in(history[0]["at"], since, until) \
            and _kind(config, history[0]["stage"]) == "won":
        result.won.append(move("won at once"))
    for change in whole_entries(doc.get("changes"), FieldChange):
        if not _in(change["at"], since, until):
            continue
        old, new = change.get("old"), change.get("new")
        if change.get("field") == "expected_close" and old and new and new > old:
            days = (date.fromisoformat(new) - date.fromisoformat(old)).days
            result.slipped.append(move(f"close {old} → {new} (+{days}d)"))
        elif change.get("field") == "amount" and old is not None and new is not None and old != new:
            difference = Decimal(new) - Decimal(old)
            result.amount_changes.append(move(f"{old} → {new}", difference))
