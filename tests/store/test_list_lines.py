"""Grow-only lists on lines of their own in a table file, left on disk until read
(``store.list_lines``): what is written, what is read back, and what a file changed by
hand or by another process does."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import orjson
import pytest

from store import tablefile
from store.database import Store
from store.errors import CorruptFileError
from store.list_lines import ENCODED_FIELDS, StoredList, split_lists
from store.models import Lead
from store.tablefile import read_table_file


def leads_with_history(folder: Path, count: int = 3) -> list[str]:
    with Store(folder) as store:
        ids = [store.add_lead(name=f"Lead {index}", owner="me").id for index in range(count)]
        store.assign_lead(ids[0], "me")
        store.storage.compact()
    return ids


def file_lines(folder: Path) -> list[bytes]:
    return (folder / "leads.json").read_bytes().splitlines()


def test_the_histories_of_a_batch_follow_it_on_two_lines(folder: Path) -> None:
    ids = leads_with_history(folder)
    lines = file_lines(folder)
    assert orjson.loads(lines[0])["layout"] == tablefile.FILE_LAYOUT and len(lines) == 4
    table, docs = orjson.loads(lines[1])
    assert table == "leads" and [doc["id"] for doc in docs] == ids
    assert not any("history" in doc for doc in docs)
    name, field, keys, sizes = orjson.loads(lines[2])
    histories = orjson.loads(lines[3])
    assert (name, field, keys) == ("leads", "history", ids)
    kinds = [[e["kind"] for e in entries] for entries in histories]
    assert kinds == [["created", "assigned"], ["created"], ["created"]]
    assert sizes == [len(orjson.dumps(history)) for history in histories]


def test_a_lean_store_leaves_the_histories_in_the_file_and_reads_them_as_before(folder: Path) -> None:
    ids = leads_with_history(folder)
    plain = read_table_file(folder / "leads.json")["tables"]["leads"]
    assert [e["kind"] for e in plain[ids[0]]["history"]] == ["created", "assigned"]  # a plain read decodes them
    with Store(folder) as store:
        history = store.storage.tables["leads"][ids[0]]["history"]
        assert isinstance(history, StoredList)
        assert history == plain[ids[0]]["history"] and history.raw == orjson.dumps(plain[ids[0]]["history"])
        assert [e.kind for e in store.require(Lead, ids[0]).history] == ["created", "assigned"]
        store.assign_lead(ids[1], "me")  # a write on top of a stored list
        store.storage.compact()
    again = read_table_file(folder / "leads.json")["tables"]["leads"]
    assert [e["kind"] for e in again[ids[1]]["history"]] == ["created", "assigned"]
    assert again[ids[0]]["history"] == plain[ids[0]]["history"]


def test_lists_edited_by_hand_are_read(folder: Path) -> None:
    ids = leads_with_history(folder)
    lines = file_lines(folder)
    histories = orjson.loads(lines[3])
    histories[1][0]["note"] = "typed in by hand, longer than it was"  # every length after it moves
    lines[2] = lines[2].replace(b",", b", ")
    lines[3] = orjson.dumps(histories, option=orjson.OPT_INDENT_2).replace(b"\n", b" ")
    (folder / "leads.json").write_bytes(b"\n".join(lines) + b"\n")
    with Store(folder) as store:
        assert [e.kind for e in store.require(Lead, ids[0]).history] == ["created", "assigned"]
        assert store.require(Lead, ids[1]).history[0].note == "typed in by hand, longer than it was"


@pytest.mark.parametrize(("damage", "problem"), [
    (lambda lines: [*lines[:2], lines[2].replace(b'"history"', b'"notes"'), lines[3]], "malformed line of lists"),
    (lambda lines: [*lines[:2], lines[2].replace(b'"leads","history",["', b'"leads","history",["0'), lines[3]],
     "out of place"),
    (lambda lines: [*lines[:3], lines[3][:-5]], "damaged line of lists"),
    (lambda lines: [*lines[:3], b"[[]]"], "malformed line of lists"),
    (lambda lines: lines[:3], "a line of lists is missing"),
    (lambda lines: [*lines, lines[2], lines[3]], "out of place"),
])
def test_a_damaged_line_of_lists_is_refused_and_the_folder_left_untouched(folder: Path, damage, problem: str) -> None:
    leads_with_history(folder)
    (folder / "leads.json").write_bytes(b"\n".join(damage(file_lines(folder))) + b"\n")
    before = (folder / "leads.json").read_bytes()
    with pytest.raises(CorruptFileError, match=problem):
        Store(folder)
    assert (folder / "leads.json").read_bytes() == before


def test_lists_are_read_from_the_file_a_process_opened_after_another_replaced_it(folder: Path) -> None:
    ids = leads_with_history(folder)
    with Store(folder) as mine:
        history = mine.storage.tables["leads"][ids[2]]["history"]
        with Store(folder) as other:  # another session folds its write into a new leads.json
            other.assign_lead(ids[2], "me")
            other.update(Lead, ids[0], notes="x" * 5000)  # every offset in the new file moves
            other.storage.compact()
        assert [e["kind"] for e in history] == ["created"]  # what this process read, still readable
        mine.refresh()
        assert [e.kind for e in mine.require(Lead, ids[2]).history] == ["created", "assigned"]
        mine.update(Lead, ids[1], notes="mine")
        mine.storage.compact()
    tables = read_table_file(folder / "leads.json")["tables"]["leads"]
    assert [e["kind"] for e in tables[ids[2]]["history"]] == ["created", "assigned"]
    assert [e["kind"] for e in tables[ids[0]]["history"]] == ["created", "assigned"]
    assert tables[ids[1]]["notes"] == "mine" and tables[ids[0]]["notes"] == "x" * 5000


def test_a_file_in_the_layout_before_list_lines_is_read_and_rewritten_once(folder: Path) -> None:
    ids = leads_with_history(folder)
    docs = read_table_file(folder / "leads.json")["tables"]["leads"]
    header = orjson.loads(file_lines(folder)[0])
    old = orjson.dumps({**header, "layout": "batches"}) + b"\n" + orjson.dumps(["leads", list(docs.values())]) + b"\n"
    (folder / "leads.json").write_bytes(old)
    with Store(folder) as store:
        assert [e.kind for e in store.require(Lead, ids[0]).history] == ["created", "assigned"]
        assert any(backup.read_bytes() == old for backup in store.storage.backups("leads"))
    assert orjson.loads(file_lines(folder)[0])["layout"] == tablefile.FILE_LAYOUT
    assert read_table_file(folder / "leads.json")["tables"]["leads"] == docs


def test_the_file_is_closed_with_its_store_or_when_its_last_list_is_dropped(folder: Path) -> None:
    leads_with_history(folder)
    with Store(folder) as store:
        history = store.storage.tables["leads"][next(iter(store.storage.tables["leads"]))]["history"]
        assert isinstance(history, StoredList)
        fd = history._file.fd
        assert os.readlink(f"/proc/self/fd/{fd}") == str(folder / "leads.json")
    assert history._file.fd == -1 and not history._file._closer.alive  # closed with the store
    with pytest.raises(ValueError, match="after its store was closed"):
        history.decoded()  # never a read of whatever file took the number since
    store = Store(folder, fold_at_close=False)
    history = store.storage.tables["leads"][next(iter(store.storage.tables["leads"]))]["history"]
    store.storage.list_files = type(store.storage.list_files)()  # as a reader that registers nothing
    store.close()
    closer = history._file._closer
    assert closer.alive
    del history, store
    gc.unfreeze()  # the store's objects were frozen at its open (``collector_paused``)
    gc.collect()
    assert not closer.alive  # closed when the last list was dropped


def test_every_encoded_field_goes_to_lines_of_its_own() -> None:
    """A deal's quotes and change log too: the same code writes every field listed."""
    doc = {"id": "d1", "_s": {"*": "s"}, "quotes": [{"id": "q"}], "changes": [], "title": "T"}
    slim, lines = split_lists("opportunities", [doc, {"id": "d2", "_s": {"*": "s"}}])
    assert set(ENCODED_FIELDS["opportunities"]) == {"quotes", "changes"}
    assert slim[0] == {"id": "d1", "_s": {"*": "s"}, "changes": [], "title": "T"}  # an empty list stays put
    assert lines == [b'["opportunities","quotes",["d1"],[12]]\n', b'[[{"id":"q"}]]\n']
