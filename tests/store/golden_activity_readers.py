"""What every reader of the activity log returns on a fixed-seed demo, as plain JSON.

``tests/store/test_activity_readers_same.py`` compares ``reader_outputs`` with
``tests/data/activity_readers_golden.json``, written from the code as it was before the
activity log's storage was rewritten, so that the rewrite is checked to read the same.

Regenerate the fixture (only when a reader is meant to change) with::

    python -m tests.store.golden_activity_readers [COMMIT]

from the root of a checkout; the fixture's ``about`` names the commit whose code wrote it
(COMMIT, or else ``git rev-parse --short HEAD``, ``-modified`` if store/ or sync/ differ).

Only the store's and sync's public APIs are used (no ``tui`` import): where a screen
builds its figures in ``tui`` (a record's history, a deal's or a customer's detail
screen, ``dealdeck review``), the same store calls are made here. Every value is
deterministic: a fixed demo (``DEMO``), a fixed ``TODAY``, sorted where the order is
not the reader's, change stamps (wall clock and replica id) left out, and never a
``hash()`` (``ActivityDay.lead_keys`` holds them: only their number is kept). Large
values are kept as SHA-256 digests of their sorted orjson dumps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from store.config import SavedSegment
from store.csv_export import export_csv
from store.customers import customer_rows, timeline
from store.database import ACTIVITY_LINKS, Store
from store.demo import generate_demo
from store.mail_log import logged_message_ids
from store.models import (
    RECORD_TYPES,
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Survey,
    Task,
    Ticket,
)
from store.pipeline import DealRow, deal_row, deal_rows, last_activity_dates
from store.records import DELETED, STAMPS, fields_of
from store.review import Week, build_review
from store.vcard_export import segment_customers
from sync.segments import own_changes

#: the demo the fixture is read from (``generate_demo`` gives identical records for these)
TODAY = date(2026, 11, 30)
DEMO: dict[str, Any] = {"leads": 300, "reps": 3, "seed": 5, "today": TODAY, "id_seed": 1}
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "activity_readers_golden.json"
#: linked ids shown per link field, and records per detail screen
LINK_SAMPLE = 30
RECORD_SAMPLE = 10
#: every link field an activity has: ``Store.links`` serves ACTIVITY_LINKS from the
#: activity index, and any other set of fields from a fold of its own
ALL_LINKS = ("lead_id", "customer_id", "opportunity_id", "contact_id")
#: the days the appended activities are logged on
APPEND_DAYS = ("2026-10-01", "2026-11-30")
Json = Any


# -- helpers ----------------------------------------------------------------------------------------


def make_demo(folder: Path) -> None:
    generate_demo(folder, **DEMO)


def sha(value: Json) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def plain(value: Any) -> Json:
    """A JSON value for a reader's result: dataclasses and models as dicts, Decimal as text,
    dates as ISO text, tuples as lists. A set of anything but text is refused (hashes)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        if not all(isinstance(item, str) for item in value):
            raise TypeError("a set of non-text values (hash() values?) has no place in the fixture")
        return sorted(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def spread(ids: Iterable[str], count: int) -> list[str]:
    """``count`` ids spread evenly over the sorted ones (all of them when fewer)."""
    ordered = sorted(ids)
    if len(ordered) <= count:
        return ordered
    return [ordered[i * len(ordered) // count] for i in range(count)]


def pick(all_ids: Iterable[str], linked: Iterable[str], count: int = RECORD_SAMPLE) -> list[str]:
    """Records for the detail screens: mostly ones with activities, two without."""
    with_log = set(linked)
    without = [record_id for record_id in all_ids if record_id not in with_log]
    return sorted(spread(with_log, count - 2) + spread(without, 2))


def stored_doc(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document without its stamp values (wall clock and replica id differ from
    run to run): which fields carry a stamp is kept."""
    found = dict(fields_of(doc))
    found[STAMPS] = sorted(doc.get(STAMPS) or ())
    if DELETED in doc:
        found[DELETED] = True
    return found


def ids_of(docs: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(doc["id"]) for doc in docs]


# -- the activity digest ----------------------------------------------------------------------------


def digest_outputs(store: Store) -> dict[str, Json]:
    digest = store.activity_digest()
    days = sorted([day.owner, day.at, day.count, len(day.lead_keys)] for day in digest.days())
    return {"digest.last_by_deal": plain(digest.last_by_deal()),
            "digest.last_by_customer": plain(digest.last_by_customer()),
            "digest.days": days}


# -- Store.links --------------------------------------------------------------------------------------


def link_summary(groups: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, Json]:
    """How many ids a field links, with how many activities; a digest of every group (its
    activity ids in the order returned); and the groups of ``LINK_SAMPLE`` ids in full."""
    everything = {linked: ids_of(groups[linked]) for linked in groups}
    return {"linked": len(everything), "activities": sum(len(ids) for ids in everything.values()),
            "groups_sha256": sha(everything),
            "sample": {linked: everything[linked] for linked in spread(everything, LINK_SAMPLE)}}


def links_outputs(store: Store) -> dict[str, Json]:
    found: dict[str, Json] = {}
    index = store.links(Activity, *ACTIVITY_LINKS)  # the activity index (the customer card's call)
    for field in ACTIVITY_LINKS:
        found[f"links.index.{field}"] = link_summary(index[field])
        single = store.links(Activity, field)[field]  # one field at a time (the detail screens' call)
        found[f"links.index_single.{field}"] = sha({linked: ids_of(single[linked]) for linked in single})
    folded = store.links(Activity, *ALL_LINKS)  # not ACTIVITY_LINKS alone: a fold of its own
    for field in ALL_LINKS:
        summary = link_summary(folded[field])
        if field in ACTIVITY_LINKS:
            del summary["sample"]  # the index's, above: the digest says whether they differ
        found[f"links.fold.{field}"] = summary
    contacts = store.links(Activity, "contact_id")["contact_id"]  # a contact's history
    found["links.fold_single.contact_id"] = sha({linked: ids_of(contacts[linked]) for linked in contacts})
    return found


# -- rows, all, get, count, find --------------------------------------------------------------------


def table_outputs(store: Store) -> dict[str, Json]:
    docs = list(store.rows(Activity))
    models = [activity.model_dump(mode="json") for activity in store.all(Activity)]
    sample = spread(ids_of(docs), RECORD_SAMPLE)
    gotten = {record_id: plain(store.get(Activity, record_id)) for record_id in sample}
    return {"rows": {"count": len(docs), "ids_in_order_sha256": sha(ids_of(docs)),
                     "docs_sha256": sha(sorted((stored_doc(doc) for doc in docs), key=lambda d: d["id"]))},
            "all": {"count": len(models), "ids_in_order_sha256": sha(ids_of(models)),
                    "models_sha256": sha(sorted(models, key=lambda m: m["id"]))},
            "count": store.count(Activity),
            "get": gotten,
            "get.missing": plain(store.get(Activity, "0" * 32))}


def found_ids(hits: Sequence[Activity]) -> dict[str, Json]:
    ids = [hit.id for hit in hits]
    return {"count": len(ids), "ids_in_order_sha256": sha(ids), "first": ids[:5]}


def find_outputs(store: Store) -> dict[str, Json]:
    kinds = sorted({str(doc["kind"]) for doc in store.rows(Activity)})
    reps = store.config.rep_ids()
    return {"find.owner": {rep: found_ids(store.find(Activity, owner=rep)) for rep in reps},
            "find.kind": {kind: found_ids(store.find(Activity, where={"kind": kind})) for kind in kinds},
            "find.owner_and_kind": found_ids(store.find(Activity, owner=reps[0], where={"kind": kinds[0]}))}


# -- the board, the deal screen --------------------------------------------------------------------------


def row_facts(row: DealRow) -> Json:
    return {"last_touch": row.last_touch.isoformat(), "entered": row.entered.isoformat(),
            "forecast": row.forecast, "risks": [[risk.kind, risk.reason] for risk in row.risks]}


def board_outputs(store: Store, deals: list[Mapping[str, Any]]) -> dict[str, Json]:
    """Every deal as the board shows it (its last activity from the digest)."""
    names = {doc["id"]: str(doc["name"]) for doc in store.rows(Customer)}
    rows = deal_rows(deals, store.config, customers=names,
                     last_activity=store.activity_digest().last_by_deal(), today=TODAY)
    return {"board.deal_rows": {row.id: row_facts(row) for row in rows}}


def deal_screen(store: Store, doc: Mapping[str, Any]) -> Json:
    """A deal's detail screen: its activities newest first, its risks from the newest."""
    linked = store.links(Activity, "opportunity_id")["opportunity_id"].get(doc["id"], [])
    activities = sorted((store.model_of(Activity, a) for a in linked), key=lambda a: a.at, reverse=True)
    last = last_activity_dates(a.model_dump(mode="json") for a in activities[:1])
    row = deal_row(doc, store.config, customers={}, last_activity=last, today=TODAY)
    return {"activities": [[a.id, a.at.isoformat(), a.kind, a.subject] for a in activities],
            "days_in_stage": row.days_in_stage(TODAY), **row_facts(row)}


# -- record history screens --------------------------------------------------------------------------------


def history_lines(store: Store, link: str, record_id: str) -> list[list[str]]:
    """The activity lines of a record's history screen (lead, customer, deal, contact), newest
    first as it shows them: the time to the minute and what happened."""
    lines = []
    for doc in store.links(Activity, link)[link].get(record_id, []):
        activity = store.model_of(Activity, doc)
        lines.append([activity.at.isoformat()[:16],
                      f"{activity.kind}: {activity.subject or activity.body[:60]} ({activity.owner})"])
    return sorted(lines, reverse=True)


def history_outputs(store: Store, samples: Mapping[str, list[str]]) -> dict[str, Json]:
    links = {"leads": "lead_id", "customers": "customer_id", "deals": "opportunity_id", "contacts": "contact_id"}
    return {f"history.{table}": {record_id: history_lines(store, links[table], record_id)
                                 for record_id in samples[table]}
            for table in links}


# -- customer cards ------------------------------------------------------------------------------------------


def related_activities(store: Store, customer: Customer) -> list[Mapping[str, Any]]:
    """A customer's activities as its card gathers them: with it, its lead or its deals."""
    links = store.links(Activity, *ACTIVITY_LINKS)
    deals = store.links(Opportunity, "customer_id")["customer_id"].get(customer.id, [])
    found = {a["id"]: a for a in links["customer_id"].get(customer.id, [])}
    for activity in [*(links["lead_id"].get(customer.lead_id, []) if customer.lead_id else []),
                     *(a for deal in deals for a in links["opportunity_id"].get(deal["id"], []))]:
        found.setdefault(activity["id"], activity)
    return list(found.values())


def customer_card(store: Store, customer_id: str) -> Json:
    customer = store.require(Customer, customer_id)
    activities = related_activities(store, customer)
    own = {name: store.links(cls, "customer_id")["customer_id"].get(customer_id, [])
           for name, cls in (("deals", Opportunity), ("tickets", Ticket), ("surveys", Survey))}
    events = timeline(customer_id, store.config, activities=activities, opportunities=own["deals"],
                      tickets=own["tickets"], surveys=own["surveys"], lead_id=customer.lead_id)
    return {"activity_ids": ids_of(activities), "timeline": plain(events)}


def customer_outputs(store: Store, sample: list[str]) -> dict[str, Json]:
    rows = customer_rows(store.config, customers=store.rows(Customer), opportunities=store.rows(Opportunity),
                         last_activity=store.activity_digest().last_by_customer(), tickets=store.rows(Ticket),
                         surveys=store.rows(Survey), today=TODAY, tasks=store.rows(Task),
                         contacts=store.rows(Contact))
    facts = {row.id: {"last_contact": plain(row.last_contact), "health": row.health, "rfm": list(row.rfm),
                      "reasons": [[r.kind, r.text] for r in row.reasons], "reorder_due": plain(row.reorder_due)}
             for row in rows}
    quiet = SavedSegment(name="quiet for two weeks", no_contact_days=14)
    return {"customers.rows": facts,
            "customers.cards": {customer_id: customer_card(store, customer_id) for customer_id in sample},
            "customers.segment_no_contact_14d": sorted(segment_customers(store, quiet, TODAY))}


# -- the weekly review (as `dealdeck review --format json` builds it) -------------------------------------------


def review_of(store: Store, week: Week, owner: str | None) -> Json:
    """``tui.report.collect_review`` made here from the store's calls (the demo has no team
    settings history nor custom fields, the two things it adds)."""
    config = store.config
    customers, opportunities = list(store.rows(Customer)), list(store.rows(Opportunity))
    digest = store.activity_digest()
    names = {doc["id"]: str(doc["name"]) for doc in customers}
    deals = deal_rows((d for d in opportunities if d["stage"] != config.lost_stage.key), config,
                      customers=names, last_activity=digest.last_by_deal(), today=TODAY)
    accounts = customer_rows(config, customers=customers, opportunities=opportunities,
                             last_activity=digest.last_by_customer(), tickets=store.rows(Ticket),
                             surveys=store.rows(Survey), today=TODAY, tasks=store.rows(Task),
                             contacts=store.rows(Contact))
    review = build_review(week, config, owner=owner, leads=list(store.rows(Lead)), opportunities=opportunities,
                          activities=digest.days(), customers=customers, deal_rows=deals, customer_rows=accounts)
    pinned = plain(review)
    del pinned["goals"]  # a figure added after the pin (issue 20): it reads no activity
    return pinned


def review_outputs(store: Store) -> dict[str, Json]:
    week = Week.last_full(TODAY)
    reps = {rep: review_of(store, week, rep) for rep in store.config.rep_ids()}
    return {"review.team": review_of(store, week, None),
            "review.reps": {rep: {"team": found["team"], "outlook": found["outlook"]} for rep, found in reps.items()},
            "review.week_before.team_figures": review_of(store, week.step(-1), None)["team"]}


# -- exports ----------------------------------------------------------------------------------------------


def csv_outputs(store: Store) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for excel in (False, True):
        out = io.StringIO(newline="")
        count = export_csv(store, "activities", out, excel=excel)
        text = out.getvalue()
        found["csv.activities" + (".excel" if excel else "")] = {
            "rows": count, "header": text.splitlines()[0], "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return found


def sync_outputs(store: Store) -> dict[str, Json]:
    """What a sync segment of everything this replica wrote holds for the activity log."""
    records = own_changes(store.storage.tables, store.replica_id, "")
    docs = sorted((stored_doc(doc) for doc in records["activities"].values()), key=lambda d: d["id"])
    return {"sync.own_changes.activities": {"count": len(docs), "sha256": sha(docs)},
            "mail.logged_message_ids": sorted(logged_message_ids(store.rows(Activity)))}


# -- after an append --------------------------------------------------------------------------------------


def logged_after(store: Store, targets: Mapping[str, str], new_ids: Mapping[str, str]) -> Json:
    """What the readers say of the records three new activities went to (new ids named)."""
    digest = store.activity_digest()
    links = store.links(Activity, *ACTIVITY_LINKS)
    contact_log = store.links(Activity, "contact_id")["contact_id"]
    days = sorted([d.owner, d.at, d.count, len(d.lead_keys)] for d in digest.days() if d.at[:10] in APPEND_DAYS)
    return {"count": store.count(Activity),
            "last_by_deal": plain(digest.last_by_deal().get(targets["deal"])),
            "last_by_customer": {key: plain(digest.last_by_customer().get(targets[key]))
                                 for key in ("customer", "deal_customer")},
            "days_appended_to": days,
            "lead": [new_ids.get(i, i) for i in ids_of(links["lead_id"].get(targets["lead"], []))],
            "deal": [new_ids.get(i, i) for i in ids_of(links["opportunity_id"].get(targets["deal"], []))],
            "customer": [new_ids.get(i, i) for i in ids_of(links["customer_id"].get(targets["customer"], []))],
            "contact": [new_ids.get(i, i) for i in ids_of(contact_log.get(targets["contact"], []))]}


def append_targets(store: Store) -> dict[str, str]:
    lead = spread(store.links(Activity, "lead_id")["lead_id"], 3)[1]
    deal = spread(store.links(Activity, "opportunity_id")["opportunity_id"], 3)[1]
    contact = spread(store.links(Activity, "contact_id")["contact_id"], 3)[1]
    customer = store.require(Contact, contact).customer_id
    return {"lead": lead, "deal": deal, "contact": contact, "customer": customer,
            "deal_customer": store.require(Opportunity, deal).customer_id}


def append_three(store: Store, targets: Mapping[str, str]) -> dict[str, str]:
    """Log a call on a lead, a meeting on a deal (today) and a visit backdated two months."""
    logged = [
        store.log_activity("call", lead_id=targets["lead"], subject="golden call",
                           at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
        store.log_activity("meeting", opportunity_id=targets["deal"], subject="golden meeting",
                           at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC)),
        store.log_activity("visit", customer_id=targets["customer"], contact_id=targets["contact"],
                           subject="golden visit", at=datetime(2026, 10, 1, 8, 0, tzinfo=UTC)),
    ]
    return {activity.id: f"new:{n}" for n, activity in enumerate(logged, 1)}


def append_outputs(store: Store) -> dict[str, Json]:
    """Log three activities in the open ``store`` (whose readers have folded the log
    already) and read again."""
    targets = append_targets(store)
    new_ids = append_three(store, targets)
    return {"after_append.targets": targets, "after_append.new_ids": new_ids,
            "after_append.same_store": logged_after(store, targets, new_ids)}


def reopened_outputs(folder: Path, storage: Mapping[str, Any], appended: Mapping[str, Json]) -> dict[str, Json]:
    """The same, from a store opened afresh on the folder (the appends replayed)."""
    targets, new_ids = appended["after_append.targets"], appended["after_append.new_ids"]
    with Store(folder, **storage) as store:
        return {"after_append.reopened": logged_after(store, targets, new_ids)}


# -- all of it ----------------------------------------------------------------------------------------------


def samples(store: Store) -> dict[str, list[str]]:
    links = store.links(Activity, *ALL_LINKS)
    tables = {"leads": (Lead, "lead_id"), "customers": (Customer, "customer_id"),
              "deals": (Opportunity, "opportunity_id"), "contacts": (Contact, "contact_id")}
    return {table: pick(ids_of(store.rows(cls)), links[field]) for table, (cls, field) in tables.items()}


def reads(store: Store) -> dict[str, Json]:
    """Every reader's result, the store unchanged."""
    chosen = samples(store)
    deals = list(store.rows(Opportunity))
    found: dict[str, Json] = {"demo.counts": {cls.table: store.count(cls) for cls in RECORD_TYPES},
                              "samples": chosen}
    for part in (digest_outputs(store), links_outputs(store), table_outputs(store), find_outputs(store),
                 board_outputs(store, deals),
                 {"deals.screen": {d["id"]: deal_screen(store, d) for d in deals if d["id"] in chosen["deals"]}},
                 history_outputs(store, chosen), customer_outputs(store, chosen["customers"]),
                 review_outputs(store), csv_outputs(store), sync_outputs(store)):
        found.update(part)
    return found


def reader_outputs(folder: Path, *, lean: bool | None = None) -> dict[str, Json]:
    """Each activity reader's result on the demo in ``folder``, by reader. ``lean``: the
    storage form (None: the default, the app's; False: the one-shot commands' form).
    The last sections log three activities into the folder: give it a throwaway demo."""
    storage = {} if lean is None else {"lean": lean}
    with Store(folder, **storage) as store:
        found = reads(store)
        found.update(append_outputs(store))
    found.update(reopened_outputs(folder, storage, found))
    found.pop("after_append.new_ids")  # random ids: only their names ("new:1") are kept
    return found


def as_json(outputs: Mapping[str, Json]) -> dict[str, Json]:
    """The outputs as the fixture holds them (JSON's types, e.g. lists for tuples)."""
    return json.loads(json.dumps(outputs, ensure_ascii=False))


def code_version(root: Path = FIXTURE.parents[2]) -> str:
    """The commit the store and sync code is at, ``-modified`` when they differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "store", "sync"], cwd=root).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-modified" if changed else "")


def write_fixture(path: Path = FIXTURE, commit: str | None = None) -> dict[str, Json]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        make_demo(folder)
        outputs = as_json(reader_outputs(folder))
    about = {"written_by_commit": commit or code_version(), "demo": plain(DEMO),
             "regenerate": "python -m tests.store.golden_activity_readers [COMMIT]"}
    fixture = {"about": about, "readers": outputs}
    path.write_text(json.dumps(fixture, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return outputs


if __name__ == "__main__":
    written = write_fixture(commit=sys.argv[1] if len(sys.argv) > 1 else None)
    print(f"wrote {len(written)} readers' outputs to {FIXTURE}", file=sys.stderr)
