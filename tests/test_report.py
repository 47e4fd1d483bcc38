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


# -- the lead funnel and the 12-month trend ---------------------------------------------------------------


@pytest.fixture
def funnelled(history: Store) -> Store:  # noqa: F811
    """The fixture with a converted lead's deal at Quote, and a lead of last December: every
    funnel step has someone, and each monthly series a first value of its own."""
    from store.models import Customer, Lead, Opportunity

    converted = next(lead for lead in history.all(Lead) if lead.name == "L4")
    customer = next(c for c in history.all(Customer) if c.name == "One")
    history.new(Opportunity, title="From L4", customer_id=customer.id, stage="quote", amount=900,
                lead_id=converted.id, created_at="2026-11-17T10:00:00+00:00",
                stage_history=[{"stage": stage, "at": f"2026-11-{day}T10:00:00+00:00", "by": "ann"}
                               for stage, day in (("initial", 17), ("needs", 18), ("quote", 19))])
    history.new(Lead, name="L0", created_at="2025-12-05T10:00:00+00:00")
    return history


def test_the_funnel_in_every_format_is_the_stores(funnelled: Store) -> None:
    import re

    from store.funnel import funnel
    from store.models import Lead, Opportunity

    review = collect_review(funnelled, W47, None, W47.end)
    steps = funnel(funnelled.rows(Lead), funnelled.rows(Opportunity), funnelled.config, today=W47.end,
                   period="quarter", until=W47.end)
    # L1-L5 made this quarter up to the week's end (L6 on the 23rd is not); L1 called
    # (contacted); L4 converted; L4's deal reached Quote
    assert [(s.label, s.count) for s in steps] == [
        ("Leads", 5), ("Contacted", 2), ("Qualified", 1), ("Converted", 1), ("Initial contact", 1),
        ("Needs confirmed", 1), ("Quote", 1), ("Negotiation", 0), ("Won / signed", 0)]
    assert review.funnel == steps
    shown = [(s.label, f"{s.count:,}", "" if s.conversion is None else f"{s.conversion * 100:.0f}%") for s in steps]
    svg = to_html(review).split('aria-label="Lead funnel">', 1)[1].split("</svg>")[0]
    figures = re.findall(r'<text class="funnel-figure"[^>]*>([^<]*)</text>', svg)
    assert figures == [f"{count} ({rate})" if rate else count for _, count, rate in shown]
    mail = html5lib.parse(to_html(review, for_mail=True), namespaceHTMLElements=False)
    section = next(s for s in mail.iter("section") if s.findtext("h2") == "Lead funnel")
    rows = [[td.text or "" for td in tr.findall("td")] for tr in section.iter("tr")]
    assert [(label, count, rate) for label, _, count, rate in rows] == [
        (label, count, rate or "–") for label, count, rate in shown]
    assert "<svg" not in html5lib.serialize(section)
    markdown = to_markdown(review)
    assert all(f"| {label} | {count} | {rate} |" in markdown for label, count, rate in shown)
    data = json.loads(to_json(review))
    assert [(s["label"], s["count"], s["conversion"]) for s in data["funnel"]] == [
        (s.label, s.count, s.conversion) for s in steps]
    assert data["funnel_since"] == "2026-10-01"


def test_the_funnels_bars_are_as_long_as_their_counts(funnelled: Store) -> None:
    import re

    review = collect_review(funnelled, W47, None, W47.end)
    svg = to_html(review).split('aria-label="Lead funnel">', 1)[1].split("</svg>")[0]
    widths = [float(w) for w in re.findall(r'<rect class="funnel-bar" [^>]*width="([\d.]+)"', svg)]
    counts = [step.count for step in review.funnel]
    assert len(widths) == len(counts) and widths[0] > 0
    for width, count in zip(widths, counts, strict=True):
        assert width / widths[0] == pytest.approx(count / counts[0], abs=1e-3)
    ticks = re.findall(r'text-anchor="middle" fill="#556">([\d,]+)</text>', svg)
    assert ticks == ["0", "2", "4"]  # the count axis, in round steps


def test_the_monthly_trend_shows_its_first_and_last_values(funnelled: Store) -> None:
    import re

    from store.activity_log import ActivityDigest
    from store.models import Activity, Lead, Opportunity
    from store.review_figures import TREND_MONTHS, monthly_trends_by_owner, trend_months, trend_sum

    review = collect_review(funnelled, W47, None, W47.end)
    assert review.months == trend_months(W47.end) and review.months[0] == "2025-12"
    parts = monthly_trends_by_owner(W47, funnelled.config, leads=list(funnelled.rows(Lead)),
                                    opportunities=list(funnelled.rows(Opportunity)),
                                    activities=ActivityDigest(funnelled.rows(Activity)).days())
    assert review.team.monthly_trend == trend_sum(parts.values(), TREND_MONTHS)
    assert review.reps and all(rep.monthly_trend == trend_sum([parts[rep.owner or ""]], TREND_MONTHS)
                               for rep in review.reps)
    leads = review.team.monthly_trend["new leads"]
    assert (leads[0], leads[-1]) == (1, 5)  # L0 last December; L1-L5 in November to the 22nd
    page = to_html(review)
    section = page.split("<h2>Trend, 12 months</h2>", 1)[1].split("</section>")[0]
    charts = section.split("<h3>")[1:]
    assert len(charts) == len(review.team.monthly_trend)
    for chart, (name, values) in zip(charts, review.team.monthly_trend.items(), strict=True):
        assert chart.startswith(name.capitalize())
        assert re.search(r'<text class="first"[^>]*>([^<]*)<', chart)[1] == f"{values[0]:,.0f}"  # type: ignore[index]
        assert re.search(r'<text class="last"[^>]*>([^<]*)<', chart)[1] == f"{values[-1]:,.0f}"  # type: ignore[index]
        assert f"Dec 2025: {values[0]:,.0f} · Nov 2026 (to 22 Nov): {values[-1]:,.0f}" in chart
        assert ">Dec</text>" in chart and ">2025</text>" in chart and ">Nov</text>" in chart  # the month axis
    assert "- new leads: `▂▁▁▁▁▁▁▁▁▁▁█` (Dec 2025: 1 · Nov 2026 (to 22 Nov): 5)" in to_markdown(review)
    data = json.loads(to_json(review))
    assert data["months"] == review.months and data["team"]["monthly_trend"]["new leads"] == leads
    mail = to_html(review, for_mail=True)
    assert "<h2>Trend, 12 months</h2>" in mail and "Nov 2026" in mail


def test_a_waterfall_step_of_nothing_reads_0_and_others_carry_their_sign() -> None:
    from decimal import Decimal

    from store.review_charts import FloatingBar
    from tui.report_charts import signed

    assert signed(FloatingBar("Decreased", Decimal(500), Decimal(500), "down")) == "0"
    assert signed(FloatingBar("Won", Decimal(500), Decimal(200), "down"), "EUR") == "−300 EUR"
    assert signed(FloatingBar("New", Decimal(200), Decimal(500), "up")) == "+300"
