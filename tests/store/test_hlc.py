from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.hlc import COUNTER_MAX, ZERO, Clock, ClockDriftError, Stamp, is_stamp

REPLICA_A = "a" * 16
REPLICA_B = "b" * 16


class FakeWall:
    """A wall clock the test sets by hand (time is an input, not our code)."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_stamp_text_round_trips_and_sorts_like_the_tuple() -> None:
    stamp = Stamp(1_764_000_000_000, 0x2A, REPLICA_A)
    assert str(stamp) == f"0001764000000000:002a:{REPLICA_A}"
    assert Stamp.parse(str(stamp)) == stamp
    assert is_stamp(str(stamp)) and not is_stamp("9999:0:x")
    assert str(stamp) > ZERO


@given(st.lists(st.tuples(st.integers(0, 10**15), st.integers(0, COUNTER_MAX),
                          st.sampled_from([REPLICA_A, REPLICA_B])), min_size=2, max_size=20))
def test_string_order_equals_tuple_order(parts: list[tuple[int, int, str]]) -> None:
    stamps = [Stamp(*p) for p in parts]
    assert sorted(stamps) == sorted(stamps, key=str)
    assert [str(s) for s in sorted(stamps)] == sorted(str(s) for s in stamps)


def test_stamps_increase_when_the_wall_clock_stands_still_or_goes_back() -> None:
    wall = FakeWall(1000)
    clock = Clock(REPLICA_A, wall=wall)
    first = clock.now()
    second = clock.now()
    wall.ms = 500  # the machine's clock was set back
    third = clock.now()
    assert first < second < third
    assert Stamp.parse(third).wall_ms == 1000


def test_counter_overflow_borrows_a_millisecond() -> None:
    wall = FakeWall(1000)
    clock = Clock(REPLICA_A, last=str(Stamp(1000, COUNTER_MAX, REPLICA_A)), wall=wall)
    nxt = Stamp.parse(clock.now())
    assert (nxt.wall_ms, nxt.counter) == (1001, 0)


def test_observe_moves_past_a_remote_stamp() -> None:
    wall = FakeWall(1000)
    clock = Clock(REPLICA_A, wall=wall)
    clock.observe(str(Stamp(5000, 3, REPLICA_B)))
    assert clock.now() > str(Stamp(5000, 3, REPLICA_B))


def test_observe_refuses_a_stamp_too_far_in_the_future() -> None:
    clock = Clock(REPLICA_A, wall=FakeWall(1000), max_skew_ms=60_000)
    with pytest.raises(ClockDriftError):
        clock.observe(str(Stamp(1000 + 60_001, 0, REPLICA_B)))


def test_a_clock_restarted_from_its_last_stamp_never_repeats() -> None:
    wall = FakeWall(1000)
    clock = Clock(REPLICA_A, wall=wall)
    issued = [clock.now() for _ in range(5)]
    restarted = Clock(REPLICA_A, last=issued[-1], wall=wall)
    assert restarted.now() > issued[-1]


def test_bad_replica_ids_are_refused() -> None:
    for bad in ("../../etc", "A" * 16, "short", ""):
        with pytest.raises(ValueError):
            Clock(bad)
