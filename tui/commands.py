"""Command-palette providers: jump to any record, run any action.

Hits are built from plain ``Content`` (never ``Matcher.highlight``, which parses
the candidate as markup, and never ``help``, which is parsed too): a record named
``[@click=app.quit]x[/]`` is just text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from store.models import Contact, Customer, Lead, Opportunity, clean_line

if TYPE_CHECKING:
    from tui.app import DealdeckApp

MAX_HITS = 40
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


def record_hits(app: DealdeckApp, query: str) -> Iterator[tuple[float, Content, str, str, str]]:
    """(score, display, help, table, id) for records whose name, company, email or phone
    contain every word of the query; better scores for earlier, whole-word matches."""
    words = query.casefold().split()
    if not words:
        return
    found = 0
    for cls, noun, fields in SEARCHED:
        for doc in app.store.rows(cls):
            values = [clean_line(str(doc.get(f) or "")) for f in fields]
            haystack = " ".join(values).casefold()
            if not all(word in haystack for word in words):
                continue
            title = values[0]
            position = title.casefold().find(words[0])
            score = 1.0 if position == 0 else (0.8 if position > 0 else 0.5)
            detail = " · ".join(v for v in values[1:] if v)
            help_text = f"{noun} · {doc.get('owner', '')}" + (f" · {detail}" if detail else "")
            yield score, highlighted(title, words[0]), help_text, cls.table, doc["id"]
            found += 1
            if found >= MAX_HITS * 4:
                return


class RecordsProvider(Provider):
    """Find any lead, opportunity, customer or contact by name, company, email or phone."""

    @property
    def dealdeck(self) -> DealdeckApp:
        return self.app  # type: ignore[return-value]

    async def search(self, query: str) -> Hits:
        hits = sorted(record_hits(self.dealdeck, query), key=lambda h: -h[0])[:MAX_HITS]
        for score, display, detail, table, record_id in hits:
            # Textual parses a hit's ``help`` as markup, so record text goes only
            # into the prompt, as plain Content.
            prompt = Content.assemble(display, "\n", Content(detail).stylize("dim"))
            yield Hit(score, prompt, partial(self.dealdeck.open_record, table, record_id),
                      text=display.plain)


def actions(app: DealdeckApp) -> list[tuple[str, str, Callable[[], Any]]]:
    """(name, help, callback) for every action the palette offers."""
    items: list[tuple[str, str, Callable[[], Any]]] = [
        ("New lead", "add a lead (n on the lead tab)", app.new_lead),
        ("Today", "due follow-ups, revisits, birthdays, tasks (t)", app.action_today),
        ("Sync with the team", "merge teammates' files (s)", app.action_sync),
        ("Present the weekly review", "presentation mode (p)", app.action_present),
        ("Lead funnel", "tab 1", partial(app.action_show_tab, "leads")),
        ("Opportunity board", "tab 2", partial(app.action_show_tab, "board")),
        ("Customer cards", "tab 3", partial(app.action_show_tab, "customers")),
        ("Weekly review", "tab 4", partial(app.action_show_tab, "review")),
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
