"""The read side's building blocks under ``Store``: text and field matchers for
``Store.find``, and the link groups ``Store.links`` keeps from one pass over a table."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from store import records
from store.models import Record

#: what an activity links to: ``Store.links`` keeps them from one pass over the activities
ACTIVITY_LINKS = ("customer_id", "lead_id", "opportunity_id")

SEARCHED = ("name", "company", "title", "email", "phone", "notes", "industry", "role")


def text_matcher(needle: str) -> Callable[[Mapping[str, Any]], bool]:
    def matches(doc: Mapping[str, Any]) -> bool:
        for name in SEARCHED:
            value = doc.get(name)
            if isinstance(value, str) and needle in value.casefold():
                return True
        return any(needle in tag for tag in doc.get("tags") or ())

    return matches


_MISSING = object()


def field_equals(cls: type[Record], name: str, value: Any) -> Callable[[Mapping[str, Any]], bool]:
    """``doc[name] == value``, a field left out counting as its default (stored documents
    omit falsy defaults). A plain function, not a TinyDB ``Query``: a third of the cost
    over the 137k activities of the 50k demo."""
    field = cls.model_fields.get(name)
    default = field.get_default(call_default_factory=True) if field is not None and not field.is_required() \
        else _MISSING
    return lambda doc: doc.get(name, default) == value


class Groups:
    """A table's documents (ids, for a packed table) by the value of each link field.

    Tuples, not lists: a tuple of strings leaves the cyclic collector's sight after its
    first pass, and 58k lists in it made each full collection during a board move
    cost 10-20 ms more at the 50k demo."""

    def __init__(self, fields: tuple[str, ...], keep_ids: bool) -> None:
        self.groups: dict[str, dict[str, tuple[Any, ...]]] = {field: {} for field in fields}
        self.keep_ids = keep_ids

    def add(self, key: str, doc: records.Doc) -> None:
        for field, by_value in self.groups.items():
            value = doc.get(field)
            if value:
                by_value[value] = (*by_value.get(value, ()), key if self.keep_ids else doc)


class GroupLists(Mapping[str, list[records.Doc]]):
    """A group's documents as a new list; a packed table's groups hold ids and their
    documents are decoded when the group is read."""

    def __init__(self, groups: dict[str, tuple[Any, ...]], packed: Mapping[str, records.Doc] | None) -> None:
        self._groups, self._packed = groups, packed

    def __getitem__(self, value: str) -> list[records.Doc]:
        members = self._groups[value]
        if self._packed is None:
            return list(members)
        return [self._packed[record_id] for record_id in members]

    def __iter__(self) -> Iterator[str]:
        return iter(self._groups)

    def __len__(self) -> int:
        return len(self._groups)


class AllOf:
    """A TinyDB query that holds when every condition holds (not cached: the
    tables change under TinyDB's feet)."""

    def __init__(self, conditions: list[Callable[[Mapping[str, Any]], bool]]) -> None:
        self.conditions = conditions

    def __call__(self, doc: Mapping[str, Any]) -> bool:
        return all(condition(doc) for condition in self.conditions)

    def is_cacheable(self) -> bool:
        return False
