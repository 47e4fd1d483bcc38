"""Command-palette providers: jump to any record, run any action.

Hits are built from plain ``Content`` (never ``Matcher.highlight``, which parses
the candidate as markup, and never ``help``, which is parsed too): a record named
``[@click=app.quit]x[/]`` is just text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from store.database import Store
from store.models import Contact, Customer, Lead, Opportunity, Record
from tui.custom import search_text
from tui.forms import FORMS
from tui.header import wrapped
from tui.text import with_article

if TYPE_CHECKING:
    from tui.app import DealdeckApp

MAX_HITS = 40
#: the palette's list is the screen's width less its padding (2 a side) and scrollbar
HIT_MARGIN = 6
SEARCHED = (
    (Lead, "lead", ("name", "company", "email", "phone")),
    (Customer, "customer", ("name", "email", "phone", "industry")),
    (Opportunity, "opportunity", ("title",)),
    (Contact, "contact", ("name", "email", "phone", "role")),
)


def highlighted(text: str, needle: str) -> Content:
    """Plain text with the first match of ``needle`` in bold (no markup parsing)."""
    content = Content(text)
    start = text.casefold().find(needle)
    return content.stylize("bold reverse", start, start + len(needle)) if needle and start >= 0 else content


@dataclass(frozen=True, slots=True)
class Entry:
    haystack: str
    title: str
    #: the second line's parts, most telling first: the type, the owner, then the fields
    parts: tuple[str, ...]
    table: str
    record_id: str

    @property
    def detail(self) -> str:
        return " · ".join(self.parts)


class SearchIndex:
    """Every searchable record as one lower-cased string, rebuilt only when the
    store has changed: a keystroke scans strings instead of documents (a rare
    query took 310 ms over the 50k demo without it)."""

    def __init__(self) -> None:
        #: (store identity, store version): filling demo data opens a new Store counting from 0
        self.version: tuple[int, int] = (0, -1)
        self.entries: list[Entry] = []

    def current(self, store: Store) -> list[Entry]:
        if self.version != (id(store), store.version):
            self.entries = [entry for cls, noun, fields in SEARCHED
                            for entry in _entries(store, cls, noun, fields)]
            self.version = (id(store), store.version)
        return self.entries


def _entries(store: Store, cls: type[Record], noun: str, fields: tuple[str, ...]) -> Iterator[Entry]:
    custom = search_text(store.config, cls.table)  # the team's custom text fields are searched too
    for doc in store.rows(cls):
        values = [str(doc.get(f) or "") for f in fields]
        parts = (noun, str(doc.get("owner", "")), *(v for v in values[1:] if v))
        haystack = " ".join(values).casefold()
        extra = custom(doc)
        yield Entry(f"{haystack} {extra}" if extra else haystack, values[0], parts, cls.table, doc["id"])


def record_hits(index: SearchIndex, store: Store, query: str) -> list[tuple[float, Entry]]:
    """Records whose name, company, email or phone contain every word of the query,
    best first: the title starting with the first word, then containing it."""
    words = query.casefold().split()
    if not words:
        return []
    first, rest = words[0], words[1:]
    found = [e for e in index.current(store) if first in e.haystack]  # the one pass over every record
    hits: list[tuple[float, Entry]] = []
    for entry in found:
        if all(word in entry.haystack for word in rest):
            position = entry.title.casefold().find(first)
            hits.append((1.0 if position == 0 else (0.8 if position > 0 else 0.5), entry))
    hits.sort(key=lambda hit: -hit[0])
    return hits[:MAX_HITS]


class RecordsProvider(Provider):
    """Find any lead, opportunity, customer or contact by name, company, email or phone."""

    @property
    def dealdeck(self) -> DealdeckApp:
        return self.app  # type: ignore[return-value]

    async def search(self, query: str) -> Hits:
        app = self.dealdeck
        words = query.casefold().split()
        width = max(20, app.size.width - HIT_MARGIN)
        for score, entry in record_hits(app.search_index, app.store, query):
            # Textual parses a hit's ``help`` as markup, so record text goes only
            # into the prompt, as plain Content. The palette cuts a line at its edge,
            # so the details go on as many lines as they need, each part whole.
            prompt = Content.assemble(highlighted(entry.title, words[0]), "\n",
                                      Content("\n".join(wrapped(entry.parts, width))).stylize("dim"))
            yield Hit(score, prompt, partial(app.open_record, entry.table, entry.record_id),
                      text=entry.title)


def actions(app: DealdeckApp) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, help, callback) for every action the palette offers."""
    items: list[tuple[str, str, Callable[[], Any]]] = [
        ("New lead", "add a lead (n on the lead tab)", app.new_lead),
        *[(f"New {cls.noun}", f"add {with_article(cls.noun)}", partial(app.new_record, cls)) for cls in FORMS],
        ("Import CSV…", "leads, customers or contacts from another CRM's export or a spreadsheet",
         app.action_import_csv),
        ("Today", "due follow-ups, revisits, birthdays, tasks (t)", app.action_today),
        ("Sync with the team", "merge teammates' files (s)", app.action_sync),
        ("Present the weekly review", "presentation mode (p)", app.action_present),
        ("Lead funnel", "tab 1", partial(app.action_show_tab, "leads")),
        ("Opportunity board", "tab 2", partial(app.action_show_tab, "board")),
        ("Customer cards", "tab 3", partial(app.action_show_tab, "customers")),
        ("Weekly review", "tab 4", partial(app.action_show_tab, "review")),
        ("Team settings", "reps, stages, sources, rules: shared with the team", app.action_team_settings),
        ("Rules", "the team's rules: what each did in the last 30 days, and would do now", app.action_rules),
        ("Keys", "every key binding (?)", app.action_help),
    ]
    for name in sorted(app.dealdeck_themes):
        items.append((f"Theme: {name}", "switch the colour theme (saved)", partial(app.switch_theme, name)))
    return items


class ActionsProvider(Provider):
    async def discover(self) -> Hits:
        for name, help_text, callback in actions(self.app):  # type: ignore[arg-type]
            yield DiscoveryHit(Content(name), callback, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in actions(self.app):  # type: ignore[arg-type]
            score = matcher.match(name)
            if score > 0:
                # Our own action names: safe to highlight.
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
