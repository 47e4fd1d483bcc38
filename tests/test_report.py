"""``dealdeck review``: the report in Markdown, HTML (valid, self-contained) and JSON,
with the same numbers as the review's functions."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import html5lib
import pytest

from store.database import Store
from store.review import Week
from tests.store.test_review import W47, history  # noqa: F401  (the hand-built fixture)
from tui.cli import main
from tui.report import collect_review, sparkline, to_html, to_json, to_markdown


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEALDECK_TODAY", "2026-11-25")


def test_the_html_report_is_valid_and_self_contained(history: Store) -> None:  # noqa: F811
    page = to_html(collect_review(history, W47, None, W47.end))
    html5lib.HTMLParser(strict=True).parse(page)  # raises on any parse error
    assert "<svg" in page and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "6,000" in page and "15,000" in page and "23,000" in page  # won, end and start of the waterfall


def test_record_text_is_escaped_in_every_format(history: Store) -> None:  # noqa: F811
    from store.models import Customer, Opportunity

    customer = history.new(Customer, name="Evil")
    history.new(Opportunity, title="<script>alert(1)</script> | *x*", customer_id=customer.id, stage="initial",
                created_at="2026-11-18T10:00:00+00:00",
                stage_history=[{"stage": "initial", "at": "2026-11-18T10:00:00+00:00", "by": "me"}])
    review = collect_review(history, W47, None, W47.end)
    page = to_html(review)
    assert "<script>" not in page and "&lt;script&gt;" in page
    html5lib.HTMLParser(strict=True).parse(page)
    assert "\\| \\*x\\*" in to_markdown(review)
    created = json.loads(to_json(review))["changes"]["created"]
    assert any(m["title"] == "<script>alert(1)</script> | *x*" for m in created)  # JSON keeps the text as is


def test_json_has_every_figure(history: Store) -> None:  # noqa: F811
    data = json.loads(to_json(collect_review(history, W47, None, W47.end)))
    assert data["week"] == "2026-W47" and data["week_start"] == "2026-11-16"
    fall = data["changes"]["waterfall"]
    assert (fall["start"], fall["end"], fall["balances"]) == (23000, 15000, True)
    assert data["team"]["win_rate"] == 0.6 and data["customers"]["churn_rate"] == 0.5
    assert [s["stage"] for s in data["stages"]] == ["Initial contact", "Needs confirmed", "Quote", "Negotiation"]
    assert data["reps"][0]["who"] == "Me"


def test_markdown_headlines(history: Store) -> None:  # noqa: F811
    text = to_markdown(collect_review(history, W47, None, W47.end))
    assert text.startswith("# Weekly review · team · 2026-W47 (16 Nov – 22 Nov 2026)")
    assert "Won this week: **2 deals**, **6,000**" in text
    assert "| Open at the end | 15,000 |" in text


def test_sparkline_scales_to_the_largest() -> None:
    assert sparkline([0, 4, 8]) == "▁▅█" and sparkline([0, 0]) == "▁▁"


def test_the_command_writes_each_format(history: Store, folder: Path, tmp_path: Path,  # noqa: F811
                                        capsys: pytest.CaptureFixture[str]) -> None:
    history.close()
    out = tmp_path / "review.html"
    assert main(["review", "--data", str(folder), "--week", "2026-W47", "--format", "html", "-o", str(out)]) == 0
    html5lib.HTMLParser(strict=True).parse(out.read_text(encoding="utf-8"))
    assert main(["review", "--data", str(folder), "--week", "2026-W47", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["week"] == "2026-W47"
    assert main(["review", "--data", str(folder), "--week", "2026-47"]) == 1
    assert "not a week like 2026-W47" in capsys.readouterr().err
    assert main(["review", "--data", str(folder), "--rep", "nobody"]) == 1
    assert "'nobody' is not one of the reps" in capsys.readouterr().err
    assert main(["review", "--data", str(folder)]) == 0  # the last full week by default
    assert f"# Weekly review · team · {Week(2026, 47)}" in capsys.readouterr().out


def test_a_week_in_the_future_is_refused(history: Store, folder: Path,  # noqa: F811
                                         capsys: pytest.CaptureFixture[str]) -> None:
    history.close()
    assert main(["review", "--data", str(folder), "--week", "2030-W01"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [captured.err.strip()]  # one line
    assert "2030-W01 has not begun yet" in captured.err
    assert main(["review", "--data", str(folder), "--week", "2026-W48"]) == 0  # this week, so far


def test_a_deal_without_a_rate_is_named_once_by_the_totals(history: Store) -> None:  # noqa: F811
    from store.models import Customer, Opportunity

    customer = next(c for c in history.all(Customer) if c.name == "One")
    history.new(Opportunity, title="Zurich", customer_id=customer.id, stage="quote", amount=120000, currency="CHF",
                created_at="2026-11-02T10:00:00Z", stage_history=[{"stage": "quote", "at": "2026-11-02T10:00:00Z",
                                                                    "by": "ann"}])
    review = collect_review(history, W47, None, Week(2026, 48).start)
    assert review.team.without_rate == {"CHF": 1}
    warning = "⚠ 1 deal in CHF has no rate: not in the totals; add rates.CHF to config.yaml"
    assert to_markdown(review).count(warning) == 1
    assert to_html(review).count(warning) == 1


def test_a_past_week_is_weighed_with_the_probabilities_of_that_week(tmp_path: Path) -> None:
    """The team raised Quote from 50% to 80% after week 47: its review keeps 50%; and once
    the team drops the stage, the review says how many open deals still sit in it."""
    from datetime import UTC, datetime

    from store.models import Customer, Opportunity

    wall = [int(datetime(2026, 11, 2, tzinfo=UTC).timestamp() * 1000)]

    def clock() -> int:
        wall[0] += 1
        return wall[0]

    (tmp_path / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}]\n")
    with Store(tmp_path, wall=clock) as store:
        stages = [s.model_dump(mode="json") for s in store.config.stages]
        store.save_team_settings({"stages": stages})
        customer = store.new(Customer, name="Acme")
        for title in ("Pumps", "Valves"):
            store.new(Opportunity, title=title, customer_id=customer.id, stage="quote", amount=1000,
                      created_at="2026-11-03T09:00:00+00:00",
                      stage_history=[{"stage": "quote", "at": "2026-11-03T09:00:00+00:00", "by": "ann"}])
        wall[0] = int(datetime(2026, 11, 24, tzinfo=UTC).timestamp() * 1000)
        raised = [{**s, "probability": 80} if s["key"] == "quote" else s for s in stages]
        store.save_team_settings({"stages": raised})
        past = collect_review(store, W47, None, W47.end)
        assert ("quote", "Quote", 50) in past.stages
        assert ("quote", "Quote", 80) in collect_review(store, W47.step(1), None, W47.end).stages
        assert past.team.retired_stage_deals == 0
        store.save_team_settings({"stages": [s for s in raised if s["key"] != "quote"]})
        dropped = collect_review(store, W47.step(1), None, W47.end)
        assert dropped.team.open_deals == dropped.team.retired_stage_deals == 2
        line = to_markdown(dropped).split("of them in a stage no longer used")[1].splitlines()[0]
        assert line.startswith(" | 2 |")


def test_the_review_json_carries_the_custom_fields_of_the_deals_it_lists(tmp_path: Path) -> None:
    from datetime import date

    from store.models import Customer, Opportunity

    (tmp_path / "config.yaml").write_text("me: ann\nreps: [{id: ann, name: Ann}]\n")
    with Store(tmp_path) as store:
        store.save_team_settings({"custom_fields": {"opportunities": [
            {"key": "tier", "label": "Tier", "type": "choice", "choices": ["Gold", "Silver"]}]}})
        customer = store.new(Customer, name="Acme")
        deal = store.new(Opportunity, title="Pumps", customer_id=customer.id, stage="quote", amount=1000,
                         expected_close=date(2026, 11, 26), **{"cf.tier": "gold"})
        data = json.loads(to_json(collect_review(store, W47, None, W47.end)))
    closing = data["outlook"]["closing_next_week"]
    assert [(item["record_id"], item["custom"]) for item in closing] == [(deal.id, {"tier": "Gold"})]


def test_every_table_header_sits_over_its_column(history: Store) -> None:  # noqa: F811
    """A number column's header is right-aligned as its numbers are (they sat a column off)."""
    page = to_html(collect_review(history, Week(2026, 47), None, date(2026, 11, 25)))
    document = html5lib.parse(page, namespaceHTMLElements=False)
    tables = document.findall(".//table")
    assert len(tables) >= 3
    for table in tables:
        rows = table.findall(".//tr")
        headers = rows[0].findall("th")
        if not headers:
            continue
        for index, header in enumerate(headers):
            cells = [row.findall("td")[index] for row in rows[1:] if len(row.findall("td")) > index]
            numeric = bool(cells) and all("n" in (cell.get("class") or "").split() for cell in cells)
            assert ("n" in (header.get("class") or "").split()) == numeric, (header.text, index)


def test_each_person_has_a_bullet_bar_with_the_target_marked(history: Store) -> None:  # noqa: F811
    """Won and won + weighted as bars over a track, the target a mark across them, placed on
    one scale for the team and every rep."""
    import re

    review = collect_review(history, Week(2026, 47), None, date(2026, 11, 25))
    svg = to_html(review).split('aria-label="Won and weighted forecast against target">', 1)[1].split("</svg>")[0]
    people = [review.team, *review.reps]
    targets = [float(x) for x in re.findall(r'<rect class="target" x="([\d.]+)"', svg)]
    assert len(targets) == len(people)
    top = max(max(float(f.won_quarter + f.weighted_quarter), float(f.target_quarter)) for f in people)
    for figures, x in zip(people, targets, strict=True):
        assert abs(x + 1 - (150 + float(figures.target_quarter) / top * 360)) < 0.1  # the mark's centre
    assert "of target</text>" in svg
    mail = to_html(review, for_mail=True)
    assert "Won and weighted forecast against target" in mail and "<svg" not in mail
    html5lib.HTMLParser(strict=True).parse(mail)
