"""The data folder's table groups: which tables each file holds, and what the files are called."""

from __future__ import annotations

#: table group (file stem) -> tables kept in that file
TABLE_GROUPS: dict[str, tuple[str, ...]] = {
    "leads": ("leads",),
    "pipeline": ("opportunities",),
    "customers": ("customers", "contacts"),
    "activities": ("activities",),
    "tasks": ("tasks",),
    "service": ("tickets", "surveys"),
    "team": ("settings",),
}
#: groups kept as an append-only log on disk, read a record at a time (``store.activity_store``)
LOG_GROUPS = frozenset({"activities"})
#: the file that held the activities and the tasks together before the log (2026-12-07)
OLD_ACTIVITY_FILE = "activities.json"
#: what the log's index keeps for each record an activity links to
ACTIVITY_LINK_FIELDS = ("customer_id", "lead_id", "opportunity_id")


def group_file_name(group: str) -> str:
    """The file a table group is kept in: a table file, or a log for the activities."""
    return f"{group}.jsonl" if group in LOG_GROUPS else f"{group}.json"
