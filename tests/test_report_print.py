"""The HTML report in a browser and on paper, in headless Debian ``chromium`` driven by
Playwright (no browser download): at 1280 px nothing is wider than the window and each number
column's header sits over its numbers; printed to PDF (read back with pypdf), the pages are A4,
every section's heading is there, a section that fits on a page is not cut, and a table's header
is on the page of its first row and of every page it runs onto.

With ``DEALDECK_DOCS_SCREENSHOTS=1`` it also writes the README's pictures: ``docs/report-1280.png``
(the top of the page at 1280 px) and ``docs/report-a4.png`` (the first printed page, drawn from
the PDF by poppler's ``pdftoppm``).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.database import Store
from store.models import Customer, Lead, Opportunity
from tests.store.test_review import W47, history  # noqa: F401  (the hand-built fixture)
from tests.test_report import funnelled  # noqa: F401  (with a deal in every funnel step to Quote)
from tui.report import collect_review, to_html

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    CHROMIUM is None, reason="no `chromium` on PATH (Debian: apt-get install chromium): the report is not opened")]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ROOT = Path(__file__).resolve().parents[1]
#: A4 in PDF points
A4 = (595.28, 841.89)
#: the height a page leaves a section, in CSS px: A4 less the stylesheet's @page margins (15 mm each)
PAGE_HEIGHT_PX = (297 - 2 * 15) / 25.4 * 96
#: and its width (14 mm margins)
PAGE_WIDTH_PX = (210 - 2 * 14) / 25.4 * 96

#: per table: its number columns' headers and cells, by where their text ends on the screen
NUMBER_COLUMNS = """() => {
  const right = (node) => { const range = document.createRange(); range.selectNodeContents(node);
                            return range.getBoundingClientRect().right; };
  const columns = [];
  for (const table of document.querySelectorAll("table")) {
    table.querySelectorAll("thead th").forEach((th, index) => {
      if (!th.classList.contains("n")) return;
      const cells = [...table.querySelectorAll("tbody tr")].map((tr) => tr.children[index]).filter(Boolean);
      columns.push({head: th.textContent, right: right(th), cells: cells.map(right)});
    });
  }
  return columns;
}"""
#: elements whose right edge is past the window's
TOO_WIDE = """() => [...document.querySelectorAll("body *")]
  .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .map((element) => element.tagName + ": " + element.textContent.slice(0, 60))"""
#: per section: its heading, its height and its last two lines of text (an SVG's tooltips are not text)
SECTIONS = """() => [...document.querySelectorAll("section")].map((section) => {
  const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    if (text && walker.currentNode.parentElement.localName !== "title") texts.push(text);
  }
  return {heading: section.querySelector("h2").textContent, height: section.getBoundingClientRect().height,
          last: texts.slice(-2).join(" ")};
})"""
#: per table: its header row's text and each body row's
TABLES = """() => [...document.querySelectorAll("table")].map((table) => ({
  head: table.querySelector("thead tr").innerText,
  rows: [...table.querySelectorAll("tbody tr")].map((tr) => tr.innerText)}))"""


def squash(text: str) -> str:
    """Text as both the page and the PDF give it: ligatures undone, no white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        opened = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield opened
        opened.close()


def write_report(store: Store, path: Path) -> Path:
    path.write_text(to_html(collect_review(store, W47, None, W47.end)), encoding="utf-8")
    return path


@pytest.fixture
def report(funnelled: Store, tmp_path: Path) -> Path:  # noqa: F811
    return write_report(funnelled, tmp_path / "review.html")


@pytest.fixture
def crowded(history: Store, tmp_path: Path) -> Path:  # noqa: F811
    """Ten reps with long names and seven-figure targets (eleven columns of figures), a deal and
    a lead source whose names are one long word, and leads from 70 sources in the week (a table
    longer than a page)."""
    reps = [{"id": "me", "name": "Me"}, *({"id": f"rep{n}", "name": f"Maximiliane Papadopoulou-Grünewald {n}",
                                           "monthly_target": 1500000} for n in range(9))]
    history.save_team_settings({"reps": reps})
    customer = next(c for c in history.all(Customer) if c.name == "One")
    history.new(Opportunity, title="Sensor" * 32, customer_id=customer.id, stage="initial", amount=1000,
                created_at="2026-11-18T10:00:00+00:00",
                stage_history=[{"stage": "initial", "at": "2026-11-18T10:00:00+00:00", "by": "me"}])
    for n in range(70):
        history.new(Lead, name=f"Lead {n}", source=f"Trade show {n:02d}", created_at="2026-11-19T10:00:00+00:00")
    history.new(Lead, name="Lead 70", source="Fachmesse" * 22, created_at="2026-11-19T10:00:00+00:00")
    return write_report(history, tmp_path / "crowded.html")


def printed(browser: Any, report: Path) -> tuple[Any, bytes]:
    """The page laid out for paper at the page's width, and its PDF at the stylesheet's page size."""
    page = browser.new_page(viewport={"width": round(PAGE_WIDTH_PX), "height": round(PAGE_HEIGHT_PX)})
    page.goto(report.as_uri())
    page.emulate_media(media="print")
    return page, page.pdf(prefer_css_page_size=True, outline=True, tagged=True)


def page_texts(pdf: bytes) -> tuple[Any, list[str]]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return reader, [squash(page.extract_text()) for page in reader.pages]


def first_page(texts: list[str], text: str, start: int = 0) -> int:
    """The first page, from ``start`` on, with ``text`` on it (-1: none)."""
    wanted = squash(text)
    return next((index for index in range(start, len(texts)) if wanted in texts[index]), -1)


# -- in a browser --------------------------------------------------------------------------------------------


def test_the_report_reads_at_1280_px(browser: Any, crowded: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(crowded.as_uri())
    assert page.evaluate(TOO_WIDE) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    columns = page.evaluate(NUMBER_COLUMNS)
    assert len(columns) >= 10  # the figures of eleven people, the three figures, the stages, the sources
    for column in columns:
        assert column["cells"], column["head"]
        assert all(abs(cell - column["right"]) < 1 for cell in column["cells"]), column
    page.close()


# -- on paper -----------------------------------------------------------------------------------------------


def test_the_printed_report_is_a4_with_every_section_whole_where_it_fits(browser: Any, report: Path) -> None:
    page, pdf = printed(browser, report)
    sections, tables = page.evaluate(SECTIONS), page.evaluate(TABLES)
    reader, texts = page_texts(pdf)
    assert len(reader.pages) >= 2
    for sheet in reader.pages:
        assert (float(sheet.mediabox.width), float(sheet.mediabox.height)) == pytest.approx(A4, abs=1)
    headings = {item.title: reader.get_destination_page_number(item) for item in outline(reader.outline)}
    assert [s["heading"] for s in sections] == [h for h in headings if h in {s["heading"] for s in sections}]
    for section in sections:
        start = headings[section["heading"]]
        assert squash(section["heading"]) in texts[start]
        if section["height"] < PAGE_HEIGHT_PX:  # it fits: its last lines are on its heading's page
            assert first_page(texts, section["last"], start) == start, section
    for table in tables:  # (the fixture's tables each fit on a page)
        start = first_page(texts, table["head"])
        assert all(first_page(texts, row, start) == start for row in table["rows"]), table
    assert page.evaluate("getComputedStyle(document.querySelector('thead')).display") == "table-header-group"
    if os.environ.get("DEALDECK_DOCS_SCREENSHOTS") == "1":
        docs_pictures(browser, report, pdf)
    page.close()


def test_a_crowded_report_fits_the_paper_and_repeats_a_long_tables_header(browser: Any, crowded: Path) -> None:
    page, pdf = printed(browser, crowded)
    assert page.evaluate(TOO_WIDE) == []  # eleven people's figures too: four to a table
    _, texts = page_texts(pdf)
    table = next(t for t in page.evaluate(TABLES) if t["head"].split()[0] == "Source")
    pages = {first_page(texts, row) for row in table["rows"]}
    assert len(pages) >= 2, "70 sources run onto a second page"
    assert all(squash(table["head"]) in texts[index] for index in pages)
    page.close()


def outline(items: list[Any]) -> Iterator[Any]:
    """The PDF's bookmarks (one per heading), depth first."""
    for item in items:
        if isinstance(item, list):
            yield from outline(item)
        else:
            yield item


def docs_pictures(browser: Any, report: Path, pdf: bytes) -> None:
    """The README's pictures of the report: its top at 1280 px, and its first printed page."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(report.as_uri())
    page.screenshot(path=ROOT / "docs" / "report-1280.png")
    page.close()
    if shutil.which("pdftoppm") is None:
        pytest.fail("docs/report-a4.png is drawn from the PDF by pdftoppm (Debian: apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", "-",
                    str(ROOT / "docs" / "report-a4")], input=pdf, check=True)
