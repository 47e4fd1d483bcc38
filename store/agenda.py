"""What is due: the "today" list. Pure functions over stored documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

Doc = Mapping[str, Any]
ItemKind = Literal["follow_up", "revisit", "birthday", "task"]
OPEN_LEAD_STATUSES = frozenset({"new", "contacted", "qualified"})
#: birthdays this many days ahead show up, so a card can be sent in time
BIRTHDAY_LOOKAHEAD_DAYS = 7
#: tasks due within this many days show as coming up (an after-sales call in two days,
#: a survey request in three): what a notice says is in Today is there
TASK_LOOKAHEAD_DAYS = 7


@dataclass(frozen=True)
class AgendaItem:
    kind: ItemKind
    due: date
    title: str
    detail: str
    owner: str
    table: str
    record_id: str

    def overdue(self, today: date) -> bool:
        return self.due < today


def _date(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def follow_ups(leads: Iterable[Doc], today: date) -> list[AgendaItem]:
    items = []
    for lead in leads:
        due = _date(lead.get("next_follow_up"))
        if due and due <= today and lead.get("status") in OPEN_LEAD_STATUSES and not lead.get("in_pool"):
            detail = " · ".join(x for x in (lead.get("company") or "", lead.get("phone") or "") if x)
            items.append(AgendaItem("follow_up", due, f"Follow up {lead['name']}", detail,
                                    lead["owner"], "leads", lead["id"]))
    return items


def revisits(customers: Iterable[Doc], today: date) -> list[AgendaItem]:
    items = []
    for customer in customers:
        due = _date(customer.get("next_revisit"))
        if due and due <= today and customer.get("lifecycle") in ("active", "at_risk"):
            every = customer.get("revisit_days")
            detail = f"plan: every {every} days" if every else ""
            items.append(AgendaItem("revisit", due, f"Revisit {customer['name']}", detail,
                                    customer["owner"], "customers", customer["id"]))
    return items


def next_birthday(birthday: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on the 28th
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


def birthdays(contacts: Iterable[Doc], today: date, greeted: set[tuple[str, date]]) -> list[AgendaItem]:
    """Contacts whose birthday falls in the coming week, unless already greeted."""
    horizon = today + timedelta(days=BIRTHDAY_LOOKAHEAD_DAYS)
    items = []
    for contact in contacts:
        born = _date(contact.get("birthday"))
        if born is None:
            continue
        when = next_birthday(born, today)
        if when <= horizon and (contact["id"], when) not in greeted:
            items.append(AgendaItem("birthday", when, f"Birthday: {contact['name']}",
                                    contact.get("role") or "", contact["owner"], "contacts", contact["id"]))
    return items


#: a task's links, in the order its Detail names them
TASK_LINKS = ("opportunity_id", "customer_id", "lead_id", "contact_id")
#: a linked record's name, by the link field and the record's id ("" when it is not there)
NameOf = Callable[[str, str], str]


def task_detail(task: Doc, name_of: NameOf | None) -> str:
    """What a task is about: the deal, customer, lead or contact it is linked to, by name;
    its notes when it has no link (or nobody to look names up)."""
    names = [name_of(link, task[link]) for link in TASK_LINKS if name_of and task.get(link)]
    return " · ".join(name for name in names if name) or task.get("notes") or ""


def open_tasks(tasks: Iterable[Doc], today: date, name_of: NameOf | None = None) -> list[AgendaItem]:
    """Open tasks due, overdue, or coming up within ``TASK_LOOKAHEAD_DAYS``."""
    horizon = today + timedelta(days=TASK_LOOKAHEAD_DAYS)
    items = []
    for task in tasks:
        due = _date(task.get("due"))
        if due and due <= horizon and not task.get("done") and task.get("kind") != "birthday":
            items.append(AgendaItem("task", due, task["title"], task_detail(task, name_of),
                                    task["owner"], "tasks", task["id"]))
    return items


def greeted_birthdays(tasks: Iterable[Doc]) -> set[tuple[str, date]]:
    """Birthdays marked done: a done birthday task per contact and date."""
    done = set()
    for task in tasks:
        due = _date(task.get("due"))
        if task.get("kind") == "birthday" and task.get("done") and task.get("contact_id") and due:
            done.add((task["contact_id"], due))
    return done


def agenda(*, leads: Iterable[Doc], customers: Iterable[Doc], contacts: Iterable[Doc],
           tasks: Iterable[Doc], today: date, owner: str | None = None,
           name_of: NameOf | None = None) -> list[AgendaItem]:
    """Everything due today or overdue, and what is coming up within a week (birthdays,
    tasks), oldest first.

    ``owner`` limits it to one rep; None is the whole team. ``name_of`` names the records
    a task is linked to (its Detail).
    """
    task_list = list(tasks)
    items = [*follow_ups(leads, today), *revisits(customers, today),
             *birthdays(contacts, today, greeted_birthdays(task_list)), *open_tasks(task_list, today, name_of)]
    if owner is not None:
        items = [item for item in items if item.owner == owner]
    return sorted(items, key=lambda item: (item.due, item.kind, item.title))


def due_today_count(items: Iterable[AgendaItem], today: date) -> tuple[int, int]:
    """(due today, overdue)."""
    listed = list(items)
    return (sum(1 for i in listed if i.due == today), sum(1 for i in listed if i.due < today))


#: what the after-sales tasks are called in a notice
_TASK_WORDS = {"after_sales": "after-sales call", "survey": "survey request"}


def in_today(due: date, today: date) -> bool:
    """Whether Today lists a task due on ``due`` (due, overdue or coming up soon)."""
    return due <= today + timedelta(days=TASK_LOOKAHEAD_DAYS)


def after_sales_note(tasks: Iterable[Doc], today: date) -> str:
    """What resolving a ticket scheduled, and whether Today shows it yet: ``After-sales
    call (due 2026-11-27) and survey request (due 2026-11-28) are in Today.`` A task due
    past Today's lookahead is said to show there from the day it will."""
    shown: list[str] = []
    later: list[tuple[str, date]] = []
    for task in sorted(tasks, key=lambda t: str(t.get("due"))):
        due = _date(task.get("due"))
        if due is None or task.get("done"):
            continue
        words = f"{_TASK_WORDS.get(str(task.get('kind')), 'task')} (due {due.isoformat()})"
        if in_today(due, today):
            shown.append(words)
        else:
            later.append((words, due - timedelta(days=TASK_LOOKAHEAD_DAYS)))
    sentences = [f"{_and(shown)} {'is' if len(shown) == 1 else 'are'} in Today"] if shown else []
    sentences += [f"{words} shows {'there' if shown else 'in Today'} from {start.isoformat()}"
                  for words, start in later]
    text = "; ".join(sentences)
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"

