"""The meeting's decisions in the review's report, in every format and in the mail: the
decisions of that week only, a rep's review only theirs, record text escaped."""

from __future__ import annotations

import json
from datetime import date
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import html5lib
import pytest

from store.database import Store
from store.decisions import decide_next_step, decide_note, decide_stage
from store.models import Customer, Opportunity
from store.review import Week
from tests.store.test_review import history  # noqa: F401  (the hand-built fixture)
from tui.cli import main
from tui.report import collect_review, to_html, to_json, to_markdown

W47 = Week(2026, 47)


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALDECK_TODAY", "2026-11-25")


@pytest.fixture
def decided(history: Store) -> Store:  # noqa: F811
    """Three decisions in the review of W47, one about a customer, one of them someone
    else's deal; and one taken in the week before's review."""
    store = history
    d1 = next(d for d in store.all(Opportunity) if d.title == "D1")
    store.update(Opportunity, d1.id, title="D1 <b>big</b> | pumps")
    d3 = next(d for d in store.all(Opportunity) if d.title == "D3")
    store.update(Opportunity, d3.id, owner="bo")
    decide_next_step(store, "opportunities", d1.id, "2026-W47", step="Site survey", owner="me", due=date(2026, 12, 2))
    decide_stage(store, d3.id, "2026-W47", "needs")
    one = next(c for c in store.all(Customer) if c.name == "One")
    decide_note(store, "customers", one.id, "2026-W47", "Renewal call with *their* CFO")
    decide_note(store, "customers", one.id, "2026-W46", "Last week's decision")
    return store


def test_the_review_lists_the_weeks_decisions_in_the_order_taken(decided: Store) -> None:
    review = collect_review(decided, W47, None, date(2026, 11, 25))
    assert [(d.title, d.kind, d.text) for d in review.decisions] == [
        ("D1 <b>big</b> | pumps", "next_step", "Site survey · Me by 2026-12-02"),
        ("D3", "stage", "Initial contact → Needs confirmed"),
        ("One", "note", "Renewal call with *their* CFO")]
    mine = collect_review(decided, W47, "me", date(2026, 11, 25))
    assert [d.title for d in mine.decisions] == ["D1 <b>big</b> | pumps", "One"]  # not bo's deal


def test_every_format_has_the_decisions_and_escapes_their_text(decided: Store) -> None:
    review = collect_review(decided, W47, None, date(2026, 11, 25))
    markdown = to_markdown(review)
    section = markdown.split("## Decisions in the meeting")[1].split("## ")[0]
    assert "D1 <b>" not in section and "D1 &lt;b>big&lt;/b> \\| pumps" in section
    assert "Renewal call with \\*their\\* CFO" in section and "Last week's" not in markdown
    for page in (to_html(review), to_html(review, for_mail=True)):
        html5lib.HTMLParser(strict=True).parse(page)
        document = html5lib.parse(page, namespaceHTMLElements=False)
        heading = next(h for h in document.iter("h2") if h.text == "Decisions in the meeting")
        section_element = next(s for s in document.iter("section") if heading in list(s))
        rows = [["".join(td.itertext()) for td in tr.iter("td")] for tr in section_element.iter("tr")][1:]
        assert rows[0] == ["D1 <b>big</b> | pumps", "me", "Next step", "Site survey · Me by 2026-12-02", "me"]
        assert len(rows) == 3
    data = json.loads(to_json(review))
    assert [d["kind"] for d in data["decisions"]] == ["next_step", "stage", "note"]


def test_a_week_without_decisions_says_so(history: Store) -> None:  # noqa: F811
    review = collect_review(history, W47, None, date(2026, 11, 25))
    assert review.decisions == []
    assert "## Decisions in the meeting\n\n- None recorded." in to_markdown(review)


def test_the_mailed_review_carries_the_decisions(decided: Store, folder: Path, tmp_path: Path) -> None:
    decided.save_team_settings({"reps": [{"id": "me", "name": "Me", "email": "me@example.com"},
                                         {"id": "bo", "name": "Bo"}]})
    decided.close()
    out = tmp_path / "review.eml"
    assert main(["review", "--data", str(folder), "--week", "2026-W47", "--format", "eml", "-o", str(out)]) == 0
    message: EmailMessage = message_from_bytes(out.read_bytes(), policy=default)  # type: ignore[assignment]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    page = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Site survey · Me by 2026-12-02" in text and "Site survey · Me by 2026-12-02" in page
    assert "Initial contact → Needs confirmed" in page
