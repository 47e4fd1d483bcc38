"""The demo's after-sales history: customers' lifecycles and maintenance plans, their care
activities, service tickets, surveys and the open tasks. A part of the demo's builder
(``store.demo._DemoBuilder``), kept apart by concern."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from store.demo_data import (
    CSAT_SCORES,
    LIFECYCLES,
    NPS_SCORES,
    REVISIT_DAYS,
    REVISIT_KINDS,
    SEVERITIES,
    SURVEY_COMMENTS,
    TICKET_STATUSES,
    TICKET_TITLES,
    TODOS,
    UNHAPPY_SEVERITIES,
)
from store.demo_drafts import _CustomerDraft
from store.models import (
    Survey,
    Task,
    Ticket,
)


class CareDrafts:
    """Mixed into the demo's builder: what follows a sale."""

    # -- after the sale -------------------------------------------------------------------------------------
    def _settle_lifecycle(self, customer: _CustomerDraft) -> None:
        """A win makes a customer active with a maintenance plan; some are at risk, a few churned."""
        wins = [d.closed_at for d in customer.deals if d.stage == self.won and d.closed_at]
        if not wins:
            return
        since = min(wins).date()
        days_active = (self.draw.today - since).days
        lifecycle = self.draw.weighted(LIFECYCLES)
        if lifecycle == "churned" and days_active < 14:
            lifecycle = "at_risk"
        customer.lifecycle, customer.active_since = lifecycle, since
        if lifecycle == "churned":
            customer.churned_at = since + timedelta(days=self.draw.rng.randint(7, days_active - 1))
        else:
            customer.revisit_days = self.draw.pick(REVISIT_DAYS)

    def _add_customer_care(self, customer: _CustomerDraft) -> None:
        since = customer.active_since
        if since is None:
            return
        self._care_activities(customer, since)
        for _ in range(self._ticket_count(customer.lifecycle)):
            self._ticket(customer, since)
        if self.draw.chance(0.4):
            self._survey(customer, "nps", self.draw.moment(self.draw.at_day(since)))
        if self.draw.chance(0.35):  # how the rollout went
            self._survey(customer, "csat", self.draw.within(self.draw.at_day(since, 10), 14))

    def _care_activities(self, customer: _CustomerDraft, since: date) -> None:
        """Visits and calls after the sale, about one per revisit period; fewer when at risk,
        and for some customers with no deal in progress the last revisit is overdue."""
        draw, revisit = self.draw, customer.revisit_days
        lo = draw.at_day(since)
        hi = draw.at_day(customer.churned_at, 0) if customer.churned_at else draw.horizon
        if customer.lifecycle == "at_risk":
            hi = lo + (hi - lo) * 0.4
        elif revisit and all(d.closed_at for d in customer.deals) and draw.chance(0.5):
            hi = draw.horizon - timedelta(days=revisit + draw.rng.randint(1, 10))
        if hi <= lo:
            return
        count = max(0, (hi - lo).days // (revisit or 30) + draw.rng.choice((-1, 0, 0, 1)))
        contact = customer.contacts[0]
        for at in draw.moments(lo, hi, count):
            self._activity(draw.pick(REVISIT_KINDS), at, customer.owner, customer.company.culture,
                           customer_id=customer.id, contact_id=contact.id)

    def _ticket_count(self, lifecycle: str) -> int:
        chance = {"active": 0.45, "at_risk": 0.85, "churned": 0.6}[lifecycle]
        return self.draw.rng.randint(1, 3) if self.draw.chance(chance) else 0

    def _ticket(self, customer: _CustomerDraft, since: date) -> None:
        draw = self.draw
        created = draw.moment(draw.at_day(since))
        severity = draw.weighted(SEVERITIES if customer.lifecycle == "active" else UNHAPPY_SEVERITIES)
        status, resolved, closed = self._ticket_progress(created)
        ticket = Ticket.model_construct(
            id=draw.uid(), owner=customer.owner, created_at=created, updated_at=closed or resolved or created,
            customer_id=customer.id, contact_id=customer.contacts[0].id,
            title=draw.pick(TICKET_TITLES[customer.company.culture]), description="", severity=severity,
            status=status, assignee=draw.pick(self.reps).id, resolved_at=resolved, closed_at=closed)
        self.tickets.append(ticket)
        if closed and draw.chance(0.6):
            self._survey(customer, "csat", draw.within(closed, 2), ticket_id=ticket.id)

    def _ticket_progress(self, created: datetime) -> tuple[str, datetime | None, datetime | None]:
        """(status, resolved at, closed at); a ticket of the last day is still being worked on."""
        draw = self.draw
        status = draw.weighted(TICKET_STATUSES)
        if status in ("open", "in_progress") or created > draw.horizon - timedelta(days=1):
            return ("open" if status == "open" else "in_progress"), None, None
        resolved = draw.within(created + timedelta(hours=2), 10)
        if status == "resolved" or resolved > draw.horizon - timedelta(hours=2):
            return "resolved", resolved, None
        return "closed", resolved, draw.within(resolved + timedelta(hours=1), 5)

    def _survey(self, customer: _CustomerDraft, kind: Literal["csat", "nps"], at: datetime,
                ticket_id: str | None = None) -> None:
        """A satisfaction answer; customers who are not simply active answer low."""
        draw, unhappy = self.draw, customer.lifecycle != "active"
        if kind == "csat":
            score = draw.rng.randint(1, 2) if unhappy else draw.weighted(CSAT_SCORES)
            mood = "low" if score <= 2 else "mid" if score == 3 else "high"
        else:
            score = draw.rng.randint(0, 6) if unhappy else draw.weighted(NPS_SCORES)
            mood = "low" if score <= 6 else "mid" if score <= 8 else "high"
        comment = draw.pick(SURVEY_COMMENTS[(customer.company.culture, mood)]) if draw.chance(0.7) else ""
        self.surveys.append(Survey.model_construct(
            id=draw.uid(), owner=customer.owner, created_at=at, updated_at=at, customer_id=customer.id,
            contact_id=customer.contacts[0].id, ticket_id=ticket_id, kind=kind, score=score,
            comment=comment, at=at))

    # -- tasks ----------------------------------------------------------------------------------------------
    def _add_tasks(self) -> None:
        """Follow-ups on open leads, to-dos on open deals, after-sales checks on open tickets."""
        for draft in self.leads:
            due = draft.fields.get("next_follow_up")
            if due is not None and self.draw.chance(0.35):
                name = draft.fields["name"]
                title = f"跟进 {name}" if draft.company.culture == "cn" else f"Follow up with {name}"
                self._task(draft.owner, "follow_up", title, due, lead_id=draft.id)
        cultures = {c.id: c.company.culture for c in self.customers.values()}
        for deal in self.opportunities:
            if deal.closed_at is None and self.draw.chance(0.5):
                title = self.draw.pick(TODOS[cultures[deal.customer_id]])
                self._task(deal.owner, "todo", title, self.draw.day(-10, 14), opportunity_id=deal.id,
                           customer_id=deal.customer_id)
        for ticket in self.tickets:
            if ticket.status in ("open", "in_progress") and self.draw.chance(0.5):
                self._task(ticket.owner, "after_sales", f"Check the fix: {ticket.title}",
                           self.draw.day(-5, 7), customer_id=ticket.customer_id, ticket_id=ticket.id)

    def _task(self, owner: str, kind: str, title: str, due: date, **links: str | None) -> None:
        """A task made up to ten days before it is due; about a third of the past-due ones are done."""
        draw = self.draw
        created = draw.moment(max(draw.start, draw.at_day(due, 0) - timedelta(days=10)))
        done = due < draw.today and draw.chance(0.35)
        done_at = draw.moment(created) if done else None
        self.tasks.append(Task.model_construct(
            id=draw.uid(), owner=owner, created_at=created, updated_at=done_at or created, title=title,
            kind=kind, due=due, done=done, done_at=done_at, notes="", **links))
