"""What the tabs work out from the whole activity log, in one pass over it.

The board wants each deal's last activity, the customer cards each customer's, the
review how many activities each rep logged a day and for which leads. At the 50k-lead
demo the log holds 137k activities, kept encoded in memory (``storage.PackedTable``):
a pass decodes every one of them (0.3 s), so the figures are folded from it once and
then kept up to date with each activity appended (``Store.activity_digest``).
"""

from __future__ import annotations

from array import array
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from store.dates import stored_day

Doc = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ActivityDay:
    """The activities one rep logged on one day (UTC): what the review counts."""

    owner: str
    #: midnight UTC at the start of the day, so that it compares with stored times as text
    at: str
    count: int
    #: the leads followed up, as hashes of their ids (a lead once per activity): the
    #: review counts distinct leads and never lists them, and an int takes a third of an
    #: id's memory (a collision of two of 50k 64-bit hashes has odds of one in 10^10)
    keys: array[int]

    @property
    def lead_keys(self) -> frozenset[int]:
        """The leads followed up that day, each once (made when asked: the review asks for
        a week's days; a set for every day of 426k activities held 30 MB)."""
        return frozenset(self.keys)


class ActivityDigest:
    """Last activity day per deal and per customer, and activities per rep and day."""

    def __init__(self, activities: Iterable[Doc] = (), *, key: Callable[[str], int] = hash) -> None:
        """``key``: how a lead id is kept in the sets of leads followed up (the activity
        log's index, kept on disk, needs one that is the same in every process)."""
        self._key = key
        self._last_by_deal: dict[str, str] = {}
        self._last_by_customer: dict[str, str] = {}
        #: (owner, day) -> [count, hashes of lead ids]
        self._days: dict[tuple[str, str], list[Any]] = {}
        #: one object per owner and day, however many activities name them
        self._strings: dict[str, str] = {}
        for activity in activities:
            self.add(activity)

    def add(self, activity: Doc) -> None:
        pool = self._strings.setdefault
        day = pool(at := str(activity["at"])[:10], at)
        for key, latest in (("opportunity_id", self._last_by_deal), ("customer_id", self._last_by_customer)):
            linked = activity.get(key)
            if linked and day > latest.get(linked, ""):
                latest[linked] = day
        owner = activity.get("owner") or ""
        tally = self._days.get((owner, day))
        if tally is None:
            tally = self._days[(pool(owner, owner), day)] = [0, array("q")]
        tally[0] += 1
        if lead := activity.get("lead_id"):
            tally[1].append(self._key(lead))  # an array: 8 bytes a lead, made a set when read

    def to_json(self) -> dict[str, object]:
        return {"deals": self._last_by_deal, "customers": self._last_by_customer,
                "days": [[owner, day, count, b64encode(leads.tobytes()).decode()]
                         for (owner, day), (count, leads) in self._days.items()]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, key: Callable[[str], int] = hash) -> ActivityDigest:
        digest = cls(key=key)
        pool = digest._strings.setdefault
        digest._last_by_deal = {deal: pool(day, day) for deal, day in data["deals"].items()}
        digest._last_by_customer = {customer: pool(day, day) for customer, day in data["customers"].items()}
        digest._days = {(pool(owner, owner), pool(day, day)): [count, array("q", b64decode(leads))]
                        for owner, day, count, leads in data["days"]}
        return digest

    def last_by_deal(self) -> dict[str, date]:
        """The day of the latest activity logged on each opportunity (a new dict)."""
        return _dates(self._last_by_deal)

    def last_by_customer(self) -> dict[str, date]:
        """The day of the latest activity logged with each customer (a new dict)."""
        return _dates(self._last_by_customer)

    def days(self) -> list[ActivityDay]:
        """Activities per rep and day, as they are now (later additions do not change it)."""
        return [ActivityDay(owner, f"{day}T00:00:00Z", count, array("q", leads))  # a copy: 8 bytes a lead
                for (owner, day), (count, leads) in self._days.items()]


def _dates(days: dict[str, str]) -> dict[str, date]:
    return {key: stored_day(day) for key, day in days.items()}
