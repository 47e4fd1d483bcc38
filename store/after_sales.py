"""What the store does after a sale and around a contact: tickets and the after-sales
tasks they start, satisfaction surveys, repeat deals, and logging an activity (which
brings the linked records' contact dates up to date). A part of ``Store``, kept apart
by concern; ``Store`` inherits it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.models import Activity, Customer, Lead, Opportunity, StageChange, Survey, Task, Ticket, utc_now

if TYPE_CHECKING:
    from store.database import Store

#: activities that count as the visit a customer's maintenance plan asks for
REVISIT_KINDS = frozenset({"visit", "call", "meeting"})


class AfterSales:
    """Store's after-sales and activity operations (its methods run on a ``Store``)."""

    def set_ticket_status(self: Store, ticket_id: str, status: str, *, today: date | None = None) -> Ticket:
        """Move a ticket on (open -> in progress -> resolved -> closed, or back).

        What a resolved ticket starts (by default the after-sales call and a survey
        request) is the team's rules' doing (``store.rules.default_rules``), in this commit."""
        with self.writing() as w:
            w.today = today
            ticket, _ = w.current(Ticket, ticket_id)
            if ticket.status == status:
                return ticket
            changes: dict[str, Any] = {"status": status}
            if status == "resolved":
                changes["resolved_at"] = utc_now()
            elif status == "closed":
                changes["closed_at"] = utc_now()
                changes["resolved_at"] = ticket.resolved_at or utc_now()
            else:
                changes.update(resolved_at=None, closed_at=None)
            return w.update(Ticket, ticket_id, changes)

    def ticket_tasks(self: Store, ticket_id: str) -> list[dict[str, Any]]:
        """The open tasks a ticket started (its after-sales call and survey request)."""
        return [dict(doc) for doc in self.rows(Task) if doc.get("ticket_id") == ticket_id and not doc.get("done")]

    def record_survey(self: Store, customer_id: str, kind: str, score: int, comment: str = "", *,
                      ticket_id: str | None = None, contact_id: str | None = None) -> Survey:
        """A satisfaction answer; the customer's open survey requests are done with it."""
        with self.writing() as w:
            survey = w.insert(self.validate(Survey, {
                "owner": self.me, "customer_id": customer_id, "kind": kind, "score": score, "comment": comment,
                "ticket_id": ticket_id, "contact_id": contact_id}))
            for doc in list(self.rows(Task)):
                if doc.get("customer_id") == customer_id and doc.get("kind") == "survey" and not doc.get("done"):
                    w.update(Task, doc["id"], {"done": True, "done_at": utc_now()})
            return survey

    def open_repeat_deal(self: Store, customer_id: str, amount: Decimal, *, today: date | None = None) -> Opportunity:
        """The repeat order a reorder prompt suggests, in the first stage."""
        day = today or datetime.now(UTC).date()
        with self.writing() as w:
            customer, _ = w.current(Customer, customer_id)
            first = self.config.first_stage.key
            return w.insert(self.validate(Opportunity, {
                "owner": self.me, "title": f"{customer.name}: repeat order", "customer_id": customer_id,
                "amount": amount, "currency": self.config.currency, "stage": first,
                "expected_close": day + timedelta(days=30), "next_step": "Call about the next order",
                "stage_history": [StageChange(stage=first, by=self.me)]}))


    # -- activities ------------------------------------------------------------------------
    def log_activity(self: Store, kind: str, *, lead_id: str | None = None,
                     opportunity_id: str | None = None, customer_id: str | None = None,
                     contact_id: str | None = None, subject: str = "", body: str = "",
                     at: datetime | None = None) -> Activity:
        """Log an activity and bring the linked records' contact dates up to date."""
        with self.writing() as w:
            if opportunity_id and not customer_id:
                opportunity, _ = w.current(Opportunity, opportunity_id)
                customer_id = opportunity.customer_id
            activity = w.insert(self.validate(Activity, {
                "owner": self.me, "kind": kind, "lead_id": lead_id,
                "opportunity_id": opportunity_id, "customer_id": customer_id,
                "contact_id": contact_id, "subject": subject, "body": body,
                "at": at or utc_now()}))
            if lead_id:
                lead, _ = w.current(Lead, lead_id)
                changes: dict[str, Any] = {"last_contacted_at": max_time(lead.last_contacted_at, activity.at)}
                if lead.status == "new":
                    changes["status"] = "contacted"
                w.update(Lead, lead_id, changes)
            if customer_id:
                customer, _ = w.current(Customer, customer_id)
                changes = {"last_contact_at": max_time(customer.last_contact_at, activity.at)}
                if customer.revisit_days and kind in REVISIT_KINDS:
                    # The plan counts from this visit; a backdated one never pulls it earlier.
                    due = activity.at.date() + timedelta(days=customer.revisit_days)
                    if customer.next_revisit is None or due > customer.next_revisit:
                        changes["next_revisit"] = due
                w.update(Customer, customer_id, changes)
            return activity


def max_time(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
