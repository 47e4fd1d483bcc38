"""Hybrid logical clock stamps for per-field last-writer-wins sync.

A stamp is one fixed-width string ``WWWWWWWWWWWWWWWW:CCCC:RRRRRRRRRRRRRRRR`` (wall
milliseconds in 16 decimal digits, a 4-hex-digit counter, the replica id) so that
plain string comparison orders stamps, and files stay fast to parse (see DESIGN.md).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from store.errors import StoreError

WALL_DIGITS = 16
COUNTER_MAX = 0xFFFF
REPLICA_ID_LENGTH = 16
STAMP_PATTERN = re.compile(r"^[0-9]{16}:[0-9a-f]{4}:[0-9a-f]{16}$")  # [0-9]: \d is any Unicode digit
REPLICA_PATTERN = re.compile(r"^[0-9a-f]{16}$")
#: The smallest stamp: older than anything a clock can issue.
ZERO = f"{0:016d}:0000:{'0' * REPLICA_ID_LENGTH}"


def new_replica_id() -> str:
    return secrets.token_hex(REPLICA_ID_LENGTH // 2)


@dataclass(frozen=True, order=True)
class Stamp:
    wall_ms: int
    counter: int
    replica: str

    def __str__(self) -> str:
        return f"{self.wall_ms:016d}:{self.counter:04x}:{self.replica}"

    @classmethod
    def parse(cls, text: str) -> Stamp:
        if not STAMP_PATTERN.match(text):
            raise ValueError(f"not a change stamp: {text[:60]!r}")
        wall, counter, replica = text.split(":")
        return cls(int(wall), int(counter, 16), replica)


def is_stamp(text: object) -> bool:
    return isinstance(text, str) and STAMP_PATTERN.match(text) is not None


#: how far ahead of the wall clock a stamp may be (``sync.max_clock_drift_minutes``)
DEFAULT_DRIFT_MS = 5 * 60_000
#: the command that re-stamps this replica's own changes that are in the future
REPAIR_COMMAND = "dealdeck check --repair-clock"


class ClockDriftError(StoreError, ValueError):
    """A remote stamp is further ahead of the wall clock than the allowed drift."""


class ClockAheadError(ClockDriftError):
    """This replica's own newest stamp is beyond the drift: no stamp can be issued."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def describe_ahead(ms: int) -> str:
    """A time difference in plain words: ``45 s``, ``6 min``, ``3 h 12 min``, ``4 days 2 h``, ``7,974 years``."""
    minutes, hours, days = ms // 60_000, ms // 3_600_000, ms // 86_400_000
    if minutes < 1:
        return f"{ms // 1000} s"
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    if days < 365:
        day_text = f"{days} day" + ("s" if days > 1 else "")
        return f"{day_text} {hours % 24} h" if hours % 24 else day_text
    years = days // 365
    return f"{years:,} year" + ("s" if years > 1 else "")


class Clock:
    """Issues strictly increasing stamps for one replica, never beyond its wall clock
    plus ``max_drift_ms``.

    ``now()`` is the send rule, ``observe()`` the receive rule of an HLC: the
    clock never goes backwards and always moves past any stamp it has seen. A
    remote stamp beyond the drift is refused (:class:`ClockDriftError`), so the
    clock is never pulled ahead by a teammate. Our own stamps (``last``,
    ``witness``: another process of this replica) are taken as they are: if they
    are beyond the drift, ``now()`` refuses (:class:`ClockAheadError`) rather than
    issue ever-future stamps, until the replica's clock is repaired.
    """

    def __init__(
        self,
        replica: str,
        last: str | None = None,
        wall: Callable[[], int] = wall_clock_ms,
        max_drift_ms: int = DEFAULT_DRIFT_MS,
    ) -> None:
        if not REPLICA_PATTERN.match(replica):
            raise ValueError(f"not a replica id: {replica!r}")
        self.replica = replica
        self._wall = wall
        self.max_drift_ms = max_drift_ms
        parsed = Stamp.parse(last) if last else Stamp(0, 0, replica)
        self._wall_ms, self._counter = parsed.wall_ms, parsed.counter

    @property
    def last(self) -> str:
        return str(Stamp(self._wall_ms, self._counter, self.replica))

    def wall_ms(self) -> int:
        """The wall clock this clock reads (the system clock unless one was given)."""
        return self._wall()

    def ahead_ms(self, stamp: str | None = None) -> int:
        """How far ``stamp`` (default: the newest stamp this clock has issued or seen)
        is ahead of the wall clock now; 0 if it is not."""
        wall_ms = Stamp.parse(stamp).wall_ms if stamp else self._wall_ms
        return max(0, wall_ms - self._wall())

    def now(self) -> str:
        physical = self._wall()
        if physical > self._wall_ms:
            self._wall_ms, self._counter = physical, 0
            return self.last
        wall_ms, counter = self._next_tick()
        if wall_ms - physical > self.max_drift_ms:
            raise ClockAheadError(
                f"this replica's newest change stamp is {describe_ahead(wall_ms - physical)} ahead of "
                f"this computer's clock (over the {describe_ahead(self.max_drift_ms)} allowed by "
                f"sync.max_clock_drift_minutes), so nothing can be saved: if the clock is right now, "
                f"run `{REPAIR_COMMAND}`")
        self._wall_ms, self._counter = wall_ms, counter
        return self.last

    def observe(self, remote: str) -> None:
        """Move past a stamp seen in another replica's data; refuse one beyond the drift."""
        stamp = Stamp.parse(remote)
        ahead = stamp.wall_ms - self._wall()
        if ahead > self.max_drift_ms:
            raise ClockDriftError(
                f"change stamp {remote} of replica {stamp.replica} is {describe_ahead(ahead)} ahead of this "
                f"computer's clock (over the {describe_ahead(self.max_drift_ms)} allowed)")
        if (stamp.wall_ms, stamp.counter) > (self._wall_ms, self._counter):
            self._wall_ms, self._counter = stamp.wall_ms, stamp.counter

    def witness(self, stamp: str) -> None:
        """Move past a stamp written by this replica (another process of ours)."""
        parsed = Stamp.parse(stamp)
        if (parsed.wall_ms, parsed.counter) > (self._wall_ms, self._counter):
            self._wall_ms, self._counter = parsed.wall_ms, parsed.counter

    def _next_tick(self) -> tuple[int, int]:
        # On overflow borrow one millisecond instead of failing: stamps stay
        # unique and ordered, and the drift is bounded by the write rate.
        if self._counter >= COUNTER_MAX:
            return self._wall_ms + 1, 0
        return self._wall_ms, self._counter + 1
