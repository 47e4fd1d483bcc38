"""Issue 18's figure: the 50k demo with five custom fields on leads and on deals (every
record holding values) and ten rules, against the same demo without them: start (store
open and first screen), the lead filter's keystroke work, and a board move (`]`, whose
stage change the rules watch), each within 10%. Run by hand; see bench/README.md.

    python bench/team_custom_bench.py [--size 50000] [--pairs 3]

The plain demo is app_bench.py's (/tmp/dealdeck-bench-<size>); the customised one is a
copy of it with the settings and values added through the store. Each measurement is
app_bench.py's and board_bench.py's own child process, plain and customised in turn,
pair by pair; the report gives each figure's median and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_bench import ROOT, ensure_demo

from store.rules import default_rules

FIELDS = {
    "leads": [
        {"key": "industry", "label": "Industry", "type": "choice", "column": True, "filter": True,
         "choices": ["Retail", "Manufacturing", "Energy", "Logistics", "Software"]},
        {"key": "employees", "label": "Employees", "type": "number", "column": True},
        {"key": "budget", "label": "Budget", "type": "money"},
        {"key": "met_on", "label": "Met on", "type": "date"},
        {"key": "referrer", "label": "Referred by", "type": "text"},
    ],
    "opportunities": [
        {"key": "tier", "label": "Tier", "type": "choice", "choices": ["Gold", "Silver", "Bronze"], "column": True},
        {"key": "seats", "label": "Seats", "type": "number"},
        {"key": "competitor", "label": "Competitor", "type": "text"},
        {"key": "signed_po", "label": "PO signed", "type": "yes_no"},
        {"key": "renewal", "label": "Renewal date", "type": "date"},
    ],
}


def rule(name: str, when: dict[str, object], *actions: dict[str, object]) -> dict[str, object]:
    return {"name": name, "when": when, "do": list(actions)}


RULES = [
    rule("Needs: plan the call", {"trigger": "stage_entered", "stage": "needs"},
         {"action": "create_task", "title": "Plan the needs call: {title}", "due_in_days": 1}),
    rule("Left needs", {"trigger": "stage_left", "stage": "needs"}, {"action": "set_field", "field": "cf.seats",
                                                                       "value": 10}),
    rule("Quote: send it", {"trigger": "stage_entered", "stage": "quote"},
         {"action": "create_task", "title": "Send the quote: {title}", "due_in_days": 2}),
    rule("Won: thank them", {"trigger": "won"}, {"action": "create_task", "title": "Thank {customer}"}),
    rule("Lost: debrief", {"trigger": "lost"}, {"action": "flag_risk", "text": "debrief the loss"}),
    rule("Expo leads", {"trigger": "created", "table": "leads", "conditions": {"source": "trade show"}},
         {"action": "add_tag", "tag": "expo"}),
    rule("Gold tier", {"trigger": "field_changed", "table": "opportunities", "field": "cf.tier", "to": "Gold"},
         {"action": "create_task", "title": "Brief the manager on {title}"}),
    rule("Closing soon", {"trigger": "date_reached", "table": "opportunities", "field": "expected_close",
                          "days": -3}, {"action": "create_task", "title": "Confirm {title} closes"}),
    *[r.model_dump(by_alias=True) for r in default_rules()],
]


def values_of(table: str, rng: random.Random) -> dict[str, object]:
    """A lead's or a deal's custom values, as the store keeps them."""
    if table == "leads":
        return {"cf.industry": rng.choice(FIELDS["leads"][0]["choices"]), "cf.employees": rng.randrange(5, 5000),
                "cf.budget": f"{rng.randrange(1, 900) * 100}.00", "cf.met_on": f"2026-10-{rng.randrange(1, 29):02d}",
                **({"cf.referrer": rng.choice(["Ada Lovelace", "Bo Chen"])} if rng.random() < 0.3 else {})}
    return {"cf.tier": rng.choice(["Gold", "Silver", "Bronze"]), "cf.seats": rng.randrange(1, 400),
            "cf.competitor": rng.choice(["Acme CRM", "Zed Sales"]), "cf.signed_po": rng.random() < 0.3,
            "cf.renewal": f"2027-{rng.randrange(1, 13):02d}-01"}


def customised(size: int) -> Path:
    """A copy of the plain demo with the custom fields, values on every lead and deal, and the rules."""
    plain = ensure_demo(size)
    folder = Path(f"/tmp/dealdeck-bench-{size}-custom")
    if (folder / "team.json").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(plain, folder)
    code = f"""
import random, sys
from store.database import Store
from store.models import Lead, Opportunity
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from team_custom_bench import FIELDS, RULES, values_of
rng = random.Random(18)
with Store({str(folder)!r}, lean=False) as store:
    store.save_team_settings({{"custom_fields": FIELDS, "rules": RULES}})
    # The values as records made with them have them (entered, imported): under the stamp
    # of their creation. A later bulk edit would add a stamp per field (see bench/README.md).
    with store.storage.transaction() as txn:
        for cls in (Lead, Opportunity):
            for doc in list(store.rows(cls)):
                txn.put(cls.table, {{**doc, **values_of(cls.table, rng)}})
    store.storage.compact()
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return folder


def figures(script: str, folder: Path) -> dict[str, float]:
    out = subprocess.run(["/bin/sh", "-c", f'exec "{sys.executable}" "{script}" --child "{folder}"'],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


WANTED = [("app_bench.py", "store_open_s", "store open s"), ("app_bench.py", "first_screen_s", "first screen s"),
          ("app_bench.py", "filter_work_median_ms", "lead filter work ms"),
          ("board_bench.py", "move_work_median_ms", "board move work ms"),
          ("board_bench.py", "move_to_repaint_median_ms", "board move to repaint ms")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    plain, custom = ensure_demo(args.size), customised(args.size)
    runs: dict[str, dict[str, list[float]]] = {"plain": {}, "custom": {}}
    for _ in range(args.pairs):
        for script in ("app_bench.py", "board_bench.py"):
            for name, folder in (("plain", plain), ("custom", custom)):
                for key, value in figures(str(Path(__file__).parent / script), folder).items():
                    runs[name].setdefault(key, []).append(value)
    print(f"| figure ({args.size:,} leads, {args.pairs} pairs) | without: runs | with: runs "
          "| median with / without | best with / without |")
    print("|---|---|---|---:|---:|")
    for _, key, label in WANTED:
        before, after = runs["plain"][key], runs["custom"][key]
        ratio = statistics.median(after) / statistics.median(before)
        best = min(after) / min(before)  # the least disturbed run of each: the shared machine's noise is one-sided
        print(f"| {label} | {', '.join(f'{v:.2f}' for v in before)} | {', '.join(f'{v:.2f}' for v in after)} "
              f"| {ratio:.2f}x | {best:.2f}x |")


if __name__ == "__main__":
    main()
