"""``document_fields`` tells pydantic which fields to leave out where a record has no
nested entries; pydantic's own leaving out of defaults (``dumped_document``) is the
reference it must equal, field for field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from store.database import Store
from store.demo import generate_demo
from store.models import BY_TABLE, Lead, LeadEvent
from store.records import document_fields, dumped_document, fields_of


def test_every_record_of_a_demo_database_is_stored_as_pydantic_leaves_it(tmp_path: Path) -> None:
    generate_demo(tmp_path, reps=3, leads=150, seed=3)
    seen: dict[str, int] = {}
    with Store(tmp_path) as store:
        for table, cls in BY_TABLE.items():
            for doc in store.storage.tables.get(table, {}).values():
                record = cls.model_validate(fields_of(doc))
                assert document_fields(record) == dumped_document(record), (table, record.id)
                seen[table] = seen.get(table, 0) + 1
    assert seen.get("leads", 0) > 100 and seen.get("opportunities", 0) > 10 and len(seen) >= 6


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12).map(str.strip)
_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1),
                      timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]))


@settings(max_examples=200, deadline=None)
@given(company=_text, score=st.integers(0, 100), in_pool=st.booleans(), follow_up=st.none() | st.dates(),
       contacted=st.none() | _times, created=_times, tags=st.lists(st.sampled_from(["a", "b", "VIP"]), max_size=3),
       status=st.sampled_from(["new", "contacted", "qualified"]), source=st.sampled_from(["other", "website"]),
       events=st.lists(st.tuples(st.sampled_from(["", "bob"]), _text, _times), max_size=2))
def test_a_lead_of_any_values_is_stored_as_pydantic_leaves_it(
        company: str, score: int, in_pool: bool, follow_up: date | None, contacted: datetime | None,
        created: datetime, tags: list[str], status: str, source: str,
        events: list[tuple[str, str, datetime]]) -> None:
    lead = Lead(name="Ann", owner="alice", company=company, score=score, in_pool=in_pool, next_follow_up=follow_up,
                last_contacted_at=contacted, created_at=created, tags=tags, status=status, source=source,
                history=[LeadEvent(kind="created", by="alice", to=to, note=note, at=at) for to, note, at in events])
    doc = document_fields(lead)
    assert doc == dumped_document(lead)
    assert doc["source"] == source and ("score" in doc) == (score != 0)
