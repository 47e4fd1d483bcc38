"""Every reader of the activity log gives what it gave before the log's storage was
rewritten: the results on a fixed-seed demo, compared with the golden fixture one reader
at a time (``tests/store/golden_activity_readers.py`` says what is read, and how to
write the fixture again). Both storage forms are checked: the app's lean tables and the
plain ones the one-shot commands (``dealdeck review``, ``export``) load."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.store.golden_activity_readers import FIXTURE, as_json, make_demo, reader_outputs

GOLDEN: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))["readers"] if FIXTURE.exists() else {}
#: differences shown when a reader's result differs
SHOWN = 8


@pytest.fixture(scope="module", params=[None, False], ids=["lean", "plain"])
def outputs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo") / "data"
    make_demo(folder)
    return as_json(reader_outputs(folder, lean=request.param))


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as paths with both values (the first few)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = [f"{path}/{key}: only in the fixture" for key in expected.keys() - actual.keys()]
        found += [f"{path}/{key}: not in the fixture" for key in actual.keys() - expected.keys()]
        for key in sorted(expected.keys() & actual.keys()):
            found += differences(expected[key], actual[key], f"{path}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [line for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for line in differences(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path or '/'}: fixture {expected!r:.200}, now {actual!r:.200}"]


def test_the_fixture_is_there() -> None:
    assert GOLDEN, f"no {FIXTURE}: write it with `python -m tests.store.golden_activity_readers`"


def test_the_same_readers_are_read(outputs: dict[str, Any]) -> None:
    assert sorted(outputs) == sorted(GOLDEN)


@pytest.mark.parametrize("reader", sorted(GOLDEN))
def test_each_reader_gives_what_it_gave(outputs: dict[str, Any], reader: str) -> None:
    expected, actual = GOLDEN[reader], outputs.get(reader)
    found = differences(expected, actual)
    assert not found, f"{reader} differs ({len(found)} places):\n" + "\n".join(found[:SHOWN])
