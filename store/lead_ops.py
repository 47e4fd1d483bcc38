"""The store's lead operations: duplicates, adding and assigning leads, the lead pool,
disqualifying and converting. A part of ``Store``, kept apart by concern; ``Store``
inherits it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from store.errors import StoreError
from store.leads import customer_match_keys, due_for_pool, lead_lookup_keys, match_keys, pick_owner
from store.models import Contact, Customer, Lead, LeadEvent, Opportunity, Record, StageChange, Task, utc_now
from store.tablefile import EncodedList

if TYPE_CHECKING:
    from collections.abc import Mapping

    from store.database import Store

#: the note of the history event of a lead the assignment rule gave its owner
AUTO_ASSIGNED = "auto-assigned"


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    customer: Customer
    contact: Contact
    opportunity: Opportunity


class LeadOps:
    """Store's lead operations (its methods run on a ``Store``)."""

    def duplicates_of(self: Store, lead: Mapping[str, Any], exclude_id: str | None = None) -> list[Record]:
        """Existing leads and customers that look like the same person or company."""
        keys = lead_lookup_keys(lead)
        found: list[Record] = []
        if not keys:
            return found
        for doc in self.rows(Lead):
            if doc["id"] != exclude_id and match_keys(doc) & keys:
                found.append(self.model_of(Lead, doc))
        for doc in self.rows(Customer):
            if customer_match_keys(doc) & keys:
                found.append(self.model_of(Customer, doc))
        return found

    def add_lead(self: Store, **fields: Any) -> Lead:
        """Add a lead; owner "auto" (or none given when I am not a rep) assigns it by
        the config's rule, recorded on the lead's history."""
        owner = fields.get("owner") or self.me
        when = fields.get("created_at") or utc_now()
        if owner == "auto":
            owner = pick_owner(self.config, fields, self._recent_lead_owners())
            event = LeadEvent(kind="assigned", at=when, by=self.me, to=owner, note=AUTO_ASSIGNED)
        else:
            event = LeadEvent(kind="created", at=when, by=self.me, to=owner)
        fields = {**fields, "owner": owner, "history": [*fields.get("history", ()), event]}
        return self.add(self.validate(Lead, fields))

    def _recent_lead_owners(self: Store) -> list[str]:
        """The owner of the newest auto-assigned lead (round robin continues from them)."""
        marker = orjson.dumps(AUTO_ASSIGNED)
        newest: tuple[str, str] | None = None
        for doc in self.rows(Lead):
            history = doc.get("history")
            if not history or (isinstance(history, EncodedList) and marker not in history.raw):
                continue  # an encoded history is decoded only if it may hold an automatic assignment
            for event in history:
                if event.get("kind") == "assigned" and event.get("note") == AUTO_ASSIGNED:
                    newest = max(newest or ("", ""), (str(event.get("at") or ""), str(event.get("to") or "")))
        return [newest[1]] if newest else []

    def sweep_pool(self: Store, today: date | None = None) -> list[Lead]:
        """Return leads not followed up within the configured days to the shared pool."""
        today = today or datetime.now(UTC).date()
        due = due_for_pool(self.rows(Lead), today, self.config.lead_pool.return_after_days)
        if not due:
            return []
        days = self.config.lead_pool.return_after_days
        returned = []
        with self.writing() as w:
            for lead_id in due:
                event = LeadEvent(kind="returned_to_pool", by=self.me,
                                  note=f"not followed up for {days} days")
                returned.append(w.update(Lead, lead_id, {"in_pool": True, "history": [event]}))
        return returned

    def assign_lead(self: Store, lead_id: str, rep: str, kind: str = "assigned",
                    changes: Mapping[str, Any] | None = None) -> Lead:
        """Give a lead to ``rep``, with its open tasks (the new owner does the work), in
        one commit. ``changes``: more fields to set on the lead in the same commit."""
        if rep not in self.config.rep_ids():
            raise StoreError(f"{rep!r} is not one of the team's reps")
        event = LeadEvent(kind=kind, by=self.me, to=rep)  # type: ignore[arg-type]
        tasks = self.links(Task, "lead_id")["lead_id"]
        with self.writing() as w:
            lead = w.update(Lead, lead_id, {**(changes or {}), "owner": rep, "in_pool": False,
                                            "history": [event]})
            for task in tasks.get(lead_id, []):
                if not task.get("done") and task.get("owner") != rep:
                    w.update(Task, task["id"], {"owner": rep})
        return lead

    def claim_lead(self: Store, lead_id: str, today: date | None = None) -> Lead:
        """Take a lead from the pool. Its follow-up is due today unless one is still to
        come: the old owner's date has passed (that is why the lead was in the pool)."""
        lead = self.require(Lead, lead_id)
        if not lead.in_pool:
            raise StoreError(f"{lead.name} is not in the lead pool")
        today = today or datetime.now(UTC).date()
        fresh = {} if lead.next_follow_up and lead.next_follow_up >= today else {"next_follow_up": today}
        return self.assign_lead(lead_id, self.me, kind="claimed", changes=fresh)

    def disqualify_lead(self: Store, lead_id: str, reason: str) -> Lead:
        if not reason.strip():
            raise StoreError("disqualifying a lead needs a reason")
        event = LeadEvent(kind="disqualified", by=self.me, note=reason)
        return self.update(Lead, lead_id, status="disqualified", disqualified_reason=reason,
                           next_follow_up=None, history=[event])

    def convert_lead(self: Store, lead_id: str, *, customer_id: str | None = None,
                     customer_name: str | None = None, contact_name: str | None = None,
                     title: str | None = None, amount: Decimal | str | int = 0,
                     currency: str | None = None, expected_close: date | None = None) -> Conversion:
        """Qualified lead -> customer (new or existing) + contact + opportunity, in one commit.

        The lead's activities are append-only and stay linked to the lead; the
        customer keeps ``lead_id`` so its timeline includes them.
        """
        with self.writing() as w:
            lead, _ = w.current(Lead, lead_id)
            if lead.status != "qualified":
                raise StoreError(f"only a qualified lead can be converted ({lead.name} is {lead.status})")
            if customer_id:
                customer, _ = w.current(Customer, customer_id)
            else:
                customer = w.insert(self.validate(Customer, {
                    "owner": lead.owner, "name": customer_name or lead.company or lead.name,
                    "phone": lead.phone, "email": lead.email, "region": lead.region,
                    "tags": lead.tags, "lead_id": lead.id}))
            contact = w.insert(self.validate(Contact, {
                "owner": lead.owner, "customer_id": customer.id, "name": contact_name or lead.name,
                "role": lead.title, "phone": lead.phone, "email": lead.email, "primary": True}))
            first = self.config.first_stage.key
            opportunity = w.insert(self.validate(Opportunity, {
                "owner": lead.owner, "title": title or f"{customer.name}: first deal",
                "customer_id": customer.id, "contact_id": contact.id, "lead_id": lead.id,
                "amount": amount, "currency": currency or self.config.currency,
                "stage": first, "expected_close": expected_close,
                "stage_history": [StageChange(stage=first, by=self.me)]}))
            lead = w.update(Lead, lead.id, {
                "status": "converted", "customer_id": customer.id, "contact_id": contact.id,
                "opportunity_id": opportunity.id, "next_follow_up": None,
                "history": [LeadEvent(kind="converted", by=self.me, to=opportunity.id)]})
        return Conversion(lead, customer, contact, opportunity)
