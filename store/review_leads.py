"""Every lead's history read once for a review. A history is kept in its table file and
read from it when used (``store.list_lines``): the review read each one four times (whose
the lead was at the week's end, the team's and the rep's conversion, the week's
conversions), 0.45 s of a 50k-lead review. One pass now gathers what those readers
counted, and they take the counts. Pure: no I/O but the lists' own reads."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from store.config import Config
from store.models import LeadEvent
from store.records import Doc, required_keys
from store.review_figures import TREND_WEEKS
from store.review_week import LeadWeek, Week, _in, _instant, lead_grade_at


@dataclass
class LeadHistories:
    """What the review counts from the leads' histories, by whose each lead was at the
    week's end (the same owner every reader of the week used)."""

    #: per lead, in the order given: whose it was at the week's end
    owner_at_end: list[str] = field(default_factory=list)
    #: converted or disqualified over the rates' window, and of them converted: the team's
    #: (every lead) and each rep's (leads the rep held at the week's end and holds now)
    decided_all: int = 0
    converted_all: int = 0
    decided: Counter[str] = field(default_factory=Counter)
    converted: Counter[str] = field(default_factory=Counter)
    #: the week itself (``review_week.lead_week``): the team's, and each rep's
    week_all: LeadWeek = field(default_factory=LeadWeek)
    week_by_owner: defaultdict[str, LeadWeek] = field(default_factory=lambda: defaultdict(LeadWeek))

    def lead_decisions(self, owner: str | None) -> tuple[int, int]:
        """(decided, converted) over the window, for the team (None) or a rep."""
        if owner is None:
            return self.decided_all, self.converted_all
        return self.decided[owner], self.converted[owner]

    def week(self, owner: str | None) -> LeadWeek:
        return self.week_all if owner is None else self.week_by_owner[owner]


#: the events that hand a lead to its owner (``review_week.lead_owner_at``), and that decide it
HANDING = frozenset({"created", "assigned", "claimed"})
DECIDING = frozenset({"converted", "disqualified"})


@dataclass(frozen=True)
class LeadIndex:
    """From every lead's history, what a review of any week reads there, by the lead's
    place in the list: made once for a version of the data (``tui.report.ReviewInput``),
    so that a step to another week reads no history. Small: most leads were only ever
    handed to the rep who holds them (their owner at any moment is their owner now:
    nothing kept), and few events decide a lead."""

    #: (time, to) of the events that handed the lead to someone, for leads where one of
    #: them names another rep than its owner now
    handed: dict[int, tuple[tuple[str, Any], ...]]
    #: (kind, time) of the events that converted or disqualified the lead
    decided: dict[int, tuple[tuple[str, str], ...]]

    def owner_at(self, position: int, lead: Doc, moment: str) -> str:
        """``review_week.lead_owner_at``: the last handing before ``moment``, else the owner now."""
        best_at: str | None = None
        best_to: Any = None
        for at, to in self.handed.get(position, ()):
            if at < moment and (best_at is None or at > best_at):
                best_at, best_to = at, to
        return str(best_to) if best_at is not None else str(lead.get("owner") or "")


def index_leads(leads: Sequence[Doc]) -> LeadIndex:
    """Each lead's history read once (its damaged entries left out, as ``whole_entries``)."""
    required = required_keys(LeadEvent)
    handed: dict[int, tuple[tuple[str, Any], ...]] = {}
    decided: dict[int, tuple[tuple[str, str], ...]] = {}
    for position, lead in enumerate(leads):
        handings: list[tuple[str, Any]] = []
        decisions: list[tuple[str, str]] = []
        for event in lead.get("history") or ():
            if not event.keys() >= required:
                continue  # ``check`` reports it
            kind, at = event["kind"], event["at"]
            at = at if isinstance(at, str) else ""
            if kind in HANDING and event.get("to"):
                handings.append((at, event["to"]))
            elif kind in DECIDING:
                decisions.append((kind, at))
        owner = lead.get("owner")
        if any(to != owner for _, to in handings):
            handed[position] = tuple(handings)
        if decisions:
            decided[position] = tuple(decisions)
    return LeadIndex(handed, decided)


def read_lead_histories(week: Week, config: Config, leads: Sequence[Doc],
                        index: LeadIndex | None = None) -> LeadHistories:
    """What the week's review counts from the leads' histories, from ``index`` (made for
    these ``leads``; made here when not given)."""
    if index is None:
        index = index_leads(leads)
    since, until = _instant(week.start), _instant(week.end + timedelta(days=1))
    window = _instant(week.start - timedelta(weeks=TREND_WEEKS - 1))  # as ``figures`` rates
    result = LeadHistories()
    handed, decided = index.handed, index.decided
    for position, lead in enumerate(leads):
        now = lead.get("owner")
        owner = index.owner_at(position, lead, until) if position in handed else str(now or "")
        result.owner_at_end.append(owner)
        if position in decided:
            _count_decided(result, decided[position], owner, now == owner, (window, since, until))
        if _in(lead["created_at"], since, until):
            # a lead's source has no history: the one it has now (a source is seldom changed)
            source = lead.get("source") or "other"
            grade = lead_grade_at(lead, config, until) or "ungraded"
            for counts in (result.week_all, result.week_by_owner[owner]):
                counts.sources[source] += 1
                counts.grades[grade] += 1
    return result


def _count_decided(result: LeadHistories, decided: Sequence[tuple[str, str]], owner: str, held: bool,
                   span: tuple[str, str, str]) -> None:
    """A lead's conversions and disqualifications: over the rates' window, the team's and
    (``held``: the rep holds it now too) its owner's; in the week, by its owner then."""
    window, since, until = span
    for kind, at in decided:
        converted = kind == "converted"
        if window <= at < until:
            result.decided_all += 1
            result.converted_all += converted
            if held:
                result.decided[owner] += 1
                result.converted[owner] += converted
        if since <= at < until:
            for counts in (result.week_all, result.week_by_owner[owner]):
                if converted:
                    counts.converted += 1
                else:
                    counts.disqualified += 1
