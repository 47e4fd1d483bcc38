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


class ClockDriftError(ValueError):
    """A remote stamp is further in the future than the allowed skew."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Clock:
    """Issues strictly increasing stamps for one replica.

    ``now()`` is the send rule, ``observe()`` the receive rule of an HLC: the
    clock never goes backwards and always moves past any stamp it has seen.
    """

    def __init__(
        self,
        replica: str,
        last: str | None = None,
        wall: Callable[[], int] = wall_clock_ms,
        max_skew_ms: int = 24 * 3600 * 1000,
    ) -> None:
        if not REPLICA_PATTERN.match(replica):
            raise ValueError(f"not a replica id: {replica!r}")
        self.replica = replica
        self._wall = wall
        self.max_skew_ms = max_skew_ms
        parsed = Stamp.parse(last) if last else Stamp(0, 0, replica)
        self._wall_ms, self._counter = parsed.wall_ms, parsed.counter

    @property
    def last(self) -> str:
        return str(Stamp(self._wall_ms, self._counter, self.replica))

    def now(self) -> str:
        physical = self._wall()
        if physical > self._wall_ms:
            self._wall_ms, self._counter = physical, 0
        else:
            self._advance_counter()
        return self.last

    def observe(self, remote: str) -> None:
        """Move past a stamp seen in another replica's data."""
        stamp = Stamp.parse(remote)
        if stamp.wall_ms - self._wall() > self.max_skew_ms:
            raise ClockDriftError(
                f"change stamp {remote} is more than {self.max_skew_ms // 3_600_000} h in the future"
            )
        if (stamp.wall_ms, stamp.counter) > (self._wall_ms, self._counter):
            self._wall_ms, self._counter = stamp.wall_ms, stamp.counter

    def witness(self, stamp: str) -> None:
        """Move past a stamp written by this replica (another process of ours)."""
        parsed = Stamp.parse(stamp)
        if (parsed.wall_ms, parsed.counter) > (self._wall_ms, self._counter):
            self._wall_ms, self._counter = parsed.wall_ms, parsed.counter

    def _advance_counter(self) -> None:
        # On overflow borrow one millisecond instead of failing: stamps stay
        # unique and ordered, and the drift is bounded by the write rate.
        if self._counter >= COUNTER_MAX:
            self._wall_ms, self._counter = self._wall_ms + 1, 0
        else:
            self._counter += 1
