from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.hlc import COUNTER_MAX, ZERO, Clock, ClockAheadError, ClockDriftError, Stamp, describe_ahead, is_stamp

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
    clock = Clock(REPLICA_A, wall=FakeWall(1000), max_drift_ms=60_000)
    with pytest.raises(ClockDriftError):
        clock.observe(str(Stamp(1000 + 60_001, 0, REPLICA_B)))


MINUTE = 60_000
NOW = 1_764_000_000_000


def test_the_drift_is_five_minutes_by_default_and_a_refusal_says_how_far_ahead() -> None:
    clock = Clock(REPLICA_A, wall=FakeWall(NOW))
    clock.observe(str(Stamp(NOW + 4 * MINUTE, 0, REPLICA_B)))  # accepted: within the drift
    with pytest.raises(ClockDriftError, match=f"replica {REPLICA_B} is 6 min ahead"):
        clock.observe(str(Stamp(NOW + 6 * MINUTE, 0, REPLICA_B)))
    with pytest.raises(ClockDriftError, match="is 23 h ahead"):
        clock.observe(str(Stamp(NOW + 23 * 60 * MINUTE, 0, REPLICA_B)))
    assert Stamp.parse(clock.now()).wall_ms == NOW + 4 * MINUTE  # moved past what it accepted only


def test_a_clock_whose_own_stamps_ran_ahead_refuses_instead_of_stamping_in_the_future() -> None:
    wall = FakeWall(NOW + 5 * 365 * 24 * 60 * MINUTE)  # the system clock was set to five years ahead
    clock = Clock(REPLICA_A, wall=wall)
    ahead = clock.now()
    wall.ms = NOW  # the clock comes back: the replica's newest stamp is years ahead
    with pytest.raises(ClockAheadError, match=r"5 years ahead .* run `dealdeck check --repair-clock`"):
        clock.now()
    restarted = Clock(REPLICA_A, last=ahead, wall=wall)  # a new process of that replica
    with pytest.raises(ClockAheadError):
        restarted.now()
    assert restarted.ahead_ms() > restarted.max_drift_ms
    wall.ms = Stamp.parse(ahead).wall_ms - 4 * MINUTE  # within the drift again: stamps go on from it
    assert clock.now() > ahead


def test_time_differences_in_plain_words() -> None:
    assert [describe_ahead(ms) for ms in (45_000, 6 * MINUTE, 192 * MINUTE, 180 * MINUTE, 26 * 60 * MINUTE,
                                          9 * 24 * 60 * MINUTE, 400 * 24 * 60 * MINUTE)] == [
        "45 s", "6 min", "3 h 12 min", "3 h", "1 day 2 h", "9 days", "1 year"]


Wall = st.integers(0, 10**16 - 1)
Op = st.one_of(
    st.tuples(st.just("now"), Wall),
    st.tuples(st.just("observe"), Wall, st.integers(0, COUNTER_MAX)),
    st.tuples(st.just("witness"), Wall, st.integers(0, COUNTER_MAX)),
    st.tuples(st.just("wall"), Wall),
)


@given(st.integers(1, 60).map(lambda minutes: minutes * MINUTE), Wall, st.lists(Op, max_size=40))
def test_the_clock_never_issues_a_stamp_beyond_the_wall_clock_plus_the_drift(
        drift: int, start: int, ops: list[tuple]) -> None:
    wall = FakeWall(start)
    clock = Clock(REPLICA_A, wall=wall, max_drift_ms=drift)
    issued: list[str] = []
    for op in ops:
        if op[0] == "wall":
            wall.ms = op[1]  # the wall clock jumps anywhere, back or forth
        elif op[0] == "now":
            wall.ms = op[1]
            try:
                issued.append(clock.now())
            except ClockAheadError:
                assert clock.ahead_ms() > drift - 1  # only when its newest stamp is beyond the drift
                continue
            assert Stamp.parse(issued[-1]).wall_ms <= wall.ms + drift
        elif op[0] == "observe":
            remote = str(Stamp(op[1], op[2], REPLICA_B))
            try:
                clock.observe(remote)
            except ClockDriftError:
                assert op[1] > wall.ms + drift
            else:
                assert op[1] <= wall.ms + drift
        else:
            clock.witness(str(Stamp(op[1], op[2], REPLICA_A)))
    assert issued == sorted(set(issued))  # strictly increasing, never repeated


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
