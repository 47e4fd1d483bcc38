"""Finding a JSON object that holds a key twice, which orjson reads without a word
(keeping the last value). Pure functions over bytes already read."""

from __future__ import annotations

import json
from typing import Any


def same_bytes(written: bytes, data: memoryview, start: int) -> bool:
    """``written == data``, where ``data`` is a view of the bytes read from ``start`` on,
    compared without a copy (comparing a memoryview itself is slow)."""
    full = data.obj
    if not isinstance(full, bytes):
        return written == data.tobytes()
    return len(written) == len(data) and full.startswith(written, start)


class _Twice(dict):  # type: ignore[type-arg]
    """An object of the slow parse that had a key twice (``twice``)."""

    twice: str


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(items)
    if len(obj) == len(items):
        return obj
    seen: set[str] = set()
    twice = _Twice(obj)
    twice.twice = next(key for key, _ in items if key in seen or seen.add(key))  # type: ignore[func-returns-value]
    return twice


def first_duplicate(data: memoryview) -> tuple[list[str], str] | None:
    """The path to the first object with a key twice, and the key; None if there is none."""
    try:
        parsed = json.loads(bytes(data), object_pairs_hook=_pairs)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[list[str], Any]] = [([], parsed)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Twice):
            return path, value.twice
        if isinstance(value, dict):
            stack.extend(([*path, key], item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*path, str(index)], item) for index, item in reversed(list(enumerate(value))))
    return None
