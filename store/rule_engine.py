"""The store's side of the team's rules (``store.rules`` holds the declarations): rules fired
by a change run inside the change's own transaction, before it commits, so a change and
what the rules did with it are one commit (and one undo); timed rules run in a sweep, on
the replica of the record's owner. A merged teammate's change fires nothing here: it fired
where it was made, and what the rules did arrives with it."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from store.errors import StoreError
from store.leads import pick_owner
from store.models import BY_TABLE, Customer, RuleRun, Survey, Task
from store.records import Doc, is_live
from store.rules import CASCADE_LIMIT, TIMED, Action, Rule, effect_id, fires, holds, task_title

if TYPE_CHECKING:
    from store.database import Store
    from store.writer import Writer

#: a timed rule fires for a date reached at most this long ago (a rule added today does not
#: fire for every deal that closed years ago)
TIMED_WINDOW_DAYS = 7
_LINKS = {"leads": ("lead_id",), "opportunities": ("opportunity_id", "customer_id"), "customers": ("customer_id",),
          "contacts": ("contact_id", "customer_id"), "tickets": ("ticket_id", "customer_id", "contact_id")}
_OPEN_LEAD = frozenset({"new", "contacted", "qualified"})


class RuleEngine:
    """Mixed into ``Store``."""

    def rule_day(self: Store, w: Writer | None = None) -> date:
        """The day rules count from: the writer's (an operation given its day), else this
        replica's clock (injected in tests)."""
        day = getattr(w, "today", None) if w is not None else None
        return day or datetime.fromtimestamp(self.clock.wall_ms() / 1000, UTC).date()

    def event_rules(self: Store) -> dict[str, list[Rule]]:
        by_table: dict[str, list[Rule]] = {}
        for rule in self.config.rules:
            if rule.enabled and rule.when.trigger not in TIMED:
                by_table.setdefault(rule.table, []).append(rule)
        return by_table

    # -- rules fired by a change ----------------------------------------------------------------
    def run_rules(self: Store, w: Writer) -> None:
        """The rules the transaction's changes fire, then those their own changes fire, up
        to ``CASCADE_LIMIT`` rounds (the settings refuse rules that set each other's fields)."""
        by_table = self.event_rules()
        txn = w.txn
        changed = txn.watched(by_table)
        config = self.config
        won, lost = config.won_stage.key, config.lost_stage.key
        for round_number in range(CASCADE_LIMIT):
            fired = [(rule, table, record_id)
                     for (table, record_id), before in changed.items()
                     for rule in by_table.get(table, ())
                     if (after := txn.get(table, record_id)) is not None and is_live(after)
                     and fires(rule, before, after, won=won, lost=lost)]
            if not fired:
                return
            txn.start_round(by_table)
            for rule, table, record_id in fired:
                self._apply(w, rule, table, record_id, f"{w.stamp}/{round_number}")
            changed = txn.end_round()

    def _apply(self: Store, w: Writer, rule: Rule, table: str, record_id: str, occurrence: str) -> list[str]:
        """Each action of ``rule`` on one record, each at most once per occurrence; the
        record's history says what was done (or why an action could not be)."""
        doc = w.txn.get(table, record_id)
        if doc is None:
            return []
        done_before = {entry["id"] for entry in doc.get("rule_log") or ()}
        now = datetime.fromtimestamp(self.clock.wall_ms() / 1000, UTC)
        entries = []
        for index, action in enumerate(rule.do):
            entry_id = effect_id(rule, record_id, occurrence, index)
            if entry_id in done_before:
                continue  # this occurrence fired here already (a replay): nothing twice
            try:
                did = self._do(w, action, table, w.txn.get(table, record_id) or doc, entry_id)
            except StoreError as exc:
                did = f"could not {action.words()}: {exc}"
            if did:
                entries.append(RuleRun(id=entry_id, at=now, rule=rule.name, did=did[:200]))
        if entries:
            with contextlib.suppress(StoreError):  # a record that no longer fits the settings (a stage
                w.update(BY_TABLE[table], record_id, {"rule_log": entries})  # dropped) keeps its change
        return [entry.did for entry in entries]

    def _do(self: Store, w: Writer, action: Action, table: str, doc: Doc, effect: str) -> str | None:
        cls = BY_TABLE[table]
        match action.action:
            case "create_task":
                return self._rule_task(w, action, table, doc, effect)
            case "set_field" | "clear_field":
                value = action.value if action.action == "set_field" else _empty(cls, action.field)
                if doc.get(action.field) == value or (value is None and action.field not in doc):
                    return None
                w.update(cls, doc["id"], {action.field: value})
                return action.words()
            case "assign":
                rep = pick_owner(self.config, doc, self._recent_lead_owners())
                if rep == doc.get("owner"):
                    return None
                self.assign_lead(doc["id"], rep)
                return f"assigned to {rep} by the assignment rule"
            case "add_tag":
                tags = list(doc.get("tags") or ())
                if action.tag.lower() in tags:
                    return None
                w.update(cls, doc["id"], {"tags": [*tags, action.tag]})
                return action.words()
        if doc.get("flag") == action.text:
            return None
        w.update(cls, doc["id"], {"flag": action.text})
        return action.words()

    def _rule_task(self: Store, w: Writer, action: Action, table: str, doc: Doc, task_id: str) -> str | None:
        if w.txn.get(Task.table, task_id) is not None:
            return None
        links = {name: doc["id"] if name == f"{BY_TABLE[table].noun}_id" else doc.get(name)
                 for name in _LINKS[table]}
        links = {name: value for name, value in links.items() if value}
        if action.skip_if_open and self._open_task(w, action, doc, links):
            return None
        customer_id = links.get("customer_id")
        if action.skip_if_answered and customer_id and any(
                s.get("customer_id") == customer_id and str(s["at"]) >= str(doc["created_at"])
                for s in self.rows(Survey)):
            return None
        customer = w.txn.get(Customer.table, customer_id) if customer_id else None
        owner = doc.get("assignee") or doc.get("owner") or self.me if action.for_ == "owner" else action.for_
        due = self.rule_day(w) + timedelta(days=action.due_in_days)
        title = task_title(action.title, doc, str(customer.get("name") or "") if customer else "")
        w.insert(self.validate(Task, {"id": task_id, "owner": owner, "title": title, "kind": action.kind,
                                      "due": due, **links}))
        return f"task “{title}” for {owner}, due {due.isoformat()}"

    def _open_task(self: Store, w: Writer, action: Action, doc: Doc, links: dict[str, str]) -> bool:
        """An open task of the same title this record's rules made (a deal back in a stage:
        no second "send the quote"); for an after-sales call or a survey request, any open
        one of the ticket or the customer (planned by hand too), as before rules."""
        for entry in doc.get("rule_log") or ():  # a rule's task has its history entry's id
            task = w.txn.get(Task.table, entry["id"])
            if task is not None and not task.get("done") and task.get("kind", "todo") == action.kind \
                    and is_live(task):
                return True
        if action.kind not in ("after_sales", "survey"):
            return False  # the rest would cost a pass over every task at every change
        key = "customer_id" if action.kind == "survey" and "customer_id" in links else next(iter(links))
        return any(t.get(key) == links[key] and t.get("kind", "todo") == action.kind and not t.get("done")
                   for t in self.rows(Task))

    # -- timed rules -----------------------------------------------------------------------------
    def run_timed_rules(self: Store, today: date | None = None) -> list[str]:
        """Fire the timed rules (a date reached, no activity for a while) on this rep's own
        records, in one commit; a line for each record acted on."""
        planned = list(self._timed_plan(today or self.rule_day(), mine=True))
        if not planned:
            return []
        lines = []
        with self.writing() as w:
            for rule, table, doc, occurrence in planned:
                did = self._apply(w, rule, table, doc["id"], occurrence)
                lines += [f"{rule.name}: {_label(doc)}: {text}" for text in did]
        return lines

    def _timed_plan(self: Store, today: date, *, mine: bool) -> Iterator[tuple[Rule, str, Doc, str]]:
        timed = [rule for rule in self.config.rules if rule.enabled and rule.when.trigger in TIMED]
        if not timed:
            return
        idle = self._last_touch() if any(rule.when.trigger == "no_activity" for rule in timed) else {}
        for rule in timed:
            cls = BY_TABLE[rule.table]
            for doc in self.rows(cls):
                if mine and (doc.get("assignee") or doc.get("owner")) != self.me:
                    continue  # the owner's replica fires it: once, not on every teammate's
                occurrence = self._occurrence(rule, doc, today, idle)
                if occurrence and holds(doc, rule.when.conditions):
                    done = {entry["id"] for entry in doc.get("rule_log") or ()}
                    if effect_id(rule, doc["id"], occurrence, 0) not in done:
                        yield rule, rule.table, doc, occurrence

    def _occurrence(self: Store, rule: Rule, doc: Doc, today: date, idle: dict[str, date]) -> str | None:
        when = rule.when
        if when.trigger == "date_reached":
            value = doc.get(when.field)
            if not isinstance(value, str) or len(value) < 10:
                return None
            try:
                due = date.fromisoformat(value[:10]) + timedelta(days=when.days)
            except ValueError:
                return None
            return f"{when.field}={value[:10]}" if 0 <= (today - due).days <= TIMED_WINDOW_DAYS else None
        if not _still_open(self, rule.table, doc):
            return None
        last = idle.get(doc["id"]) or date.fromisoformat(str(doc["created_at"])[:10])
        return f"idle since {last.isoformat()}" if (today - last).days >= when.days else None

    def _last_touch(self: Store) -> dict[str, date]:
        """Each lead's, deal's and customer's last activity day (or contact date)."""
        touch: dict[str, date] = dict(self.activity_digest().last_by_deal())
        for table, field in (("leads", "last_contacted_at"), ("customers", "last_contact_at")):
            for doc in self.rows(BY_TABLE[table]):
                if doc.get(field):
                    touch[doc["id"]] = date.fromisoformat(str(doc[field])[:10])
        return touch

    # -- what the rules did, and would do ---------------------------------------------------------
    def rule_counts(self: Store, today: date, days: int = 30) -> Counter[str]:
        """How often each rule acted in the last ``days`` days (its history entries)."""
        since = (today - timedelta(days=days)).isoformat()
        counts: Counter[str] = Counter()
        for entry in _rule_entries(self):
            if str(entry.get("at", ""))[:10] >= since:
                counts[str(entry.get("rule"))] += 1
        return counts

    def rules_dry_run(self: Store, today: date | None = None) -> list[str]:
        """What the rules would do on the data as it is, changing nothing: the timed ones
        now (on every rep's records), the ones a change fires on the records they watch."""
        day = today or self.rule_day()
        planned: dict[str, list[str]] = {}
        for rule, _, doc, _ in self._timed_plan(day, mine=False):
            planned.setdefault(rule.name, []).append(_label(doc))
        lines = []
        for rule in self.config.rules:
            head = f"{rule.name}{'' if rule.enabled else ' (off)'}: when {rule.trigger_words()}: " + \
                "; ".join(action.words() for action in rule.do)
            lines.append(head)
            if rule.when.trigger in TIMED:
                found = planned.get(rule.name, [])
                lines.append(f"  would act now on {len(found)} record{'' if len(found) == 1 else 's'}"
                             + (": " + ", ".join(found[:10]) + (" …" if len(found) > 10 else "") if found else ""))
            else:
                watched = sum(1 for doc in self.rows(BY_TABLE[rule.table])
                              if holds(doc, rule.when.conditions))
                lines.append(f"  acts when that happens; nothing now ({watched} {rule.table} it watches)")
        return lines


def _empty(cls: type[Any], field: str) -> Any:
    """A cleared field's value: its model default (a custom field: none)."""
    info = cls.model_fields.get(field)
    return None if info is None or info.default is None else type(info.default)()


def _still_open(store: Store, table: str, doc: Doc) -> bool:
    if table == "leads":
        return doc.get("status", "new") in _OPEN_LEAD
    if table == "opportunities":
        return doc.get("stage") in {s.key for s in store.config.open_stages}
    return doc.get("lifecycle") != "churned"


def _label(doc: Doc) -> str:
    return str(doc.get("name") or doc.get("title") or doc["id"][:8])


def _rule_entries(store: Store) -> Iterable[dict[str, Any]]:
    for table in ("leads", "opportunities", "customers", "contacts", "tickets"):
        for doc in store.rows(BY_TABLE[table]):
            yield from doc.get("rule_log") or ()
