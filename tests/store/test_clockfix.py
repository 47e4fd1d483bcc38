"""Finding change stamps in the future and re-stamping this replica's own (pure functions)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from store.clockfix import future_limit, new_stamps, report_lines, restamp, scan
from store.hlc import Clock, Stamp

OURS, THEIRS = "a" * 16, "b" * 16
NOW, MINUTE = 1_764_000_000_000, 60_000
DRIFT = 5 * MINUTE
LIMIT = future_limit(NOW, DRIFT)


class Wall:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def stamp(ms: int, replica: str = OURS, counter: int = 0) -> str:
    return str(Stamp(ms, counter, replica))


def test_stamps_beyond_the_drift_are_found_per_kind_and_replica() -> None:
    tables = {"leads": {
        "1": {"id": "1", "_s": {"*": stamp(NOW), "name": stamp(NOW + DRIFT)}},  # at the limit: fine
        "2": {"id": "2", "_s": {"*": stamp(NOW + DRIFT + 1)}, "_del": stamp(NOW + 3 * 3_600_000)},
        "3": {"id": "3", "_s": {"*": stamp(NOW + 23 * 3_600_000, THEIRS)}},
    }}
    found = scan(tables, OURS, LIMIT)
    assert found.own_future == {stamp(NOW + DRIFT + 1), stamp(NOW + 3 * 3_600_000)}
    assert found.newest_kept == stamp(NOW + DRIFT)
    lines = report_lines(found, NOW, DRIFT)
    assert lines[0].startswith("1 change stamp(s) of this replica are in the future, up to 5 min ahead")
    assert lines[1].startswith("1 delete stamp(s) of this replica are in the future, up to 3 h ahead")
    assert "dealdeck check --repair-clock" in lines[0]
    assert lines[2].startswith(f"1 change stamp(s) of replica {THEIRS} are in the future, up to 23 h ahead")
    assert "not this one's to re-stamp" in lines[2]


def test_a_year_9999_stamp_is_found_and_named_in_years() -> None:
    tables = {"leads": {"1": {"id": "1", "_s": {"*": stamp(253_402_214_400_000)}}}}  # 9999-12-31
    assert "up to 7,979 years ahead" in report_lines(scan(tables, OURS, LIMIT), NOW, DRIFT)[0]


def test_restamp_replaces_only_the_mapped_stamps_and_drops_overrides_equal_to_the_base() -> None:
    old, new = stamp(NOW + 10**9), stamp(NOW)
    doc = {"id": "1", "name": "x", "_s": {"*": old, "name": old, "phone": stamp(NOW - 1, THEIRS)}, "_del": old}
    fixed = restamp(doc, {old: new})
    assert fixed == {"id": "1", "name": "x", "_s": {"*": new, "phone": stamp(NOW - 1, THEIRS)}, "_del": new}
    assert restamp({"id": "2", "_s": {"*": stamp(NOW)}}, {old: new}) is None
    assert doc["_s"]["*"] == old  # the input is not changed


@given(st.lists(st.integers(NOW + DRIFT + 1, 10**16 - 1), min_size=1, max_size=30))
def test_new_stamps_keep_the_order_and_stay_within_the_drift(walls: list[int]) -> None:
    old = [stamp(ms) for ms in walls]
    clock = Clock(OURS, wall=Wall(NOW), max_drift_ms=DRIFT)
    clock.witness(stamp(NOW + DRIFT - 1, THEIRS))  # the newest stamp that stays
    mapping = new_stamps(old, clock)
    ordered = sorted(set(old))
    assert [mapping[s] for s in ordered] == sorted(mapping.values())
    assert all(stamp(NOW + DRIFT - 1, THEIRS) < s <= LIMIT for s in mapping.values())
