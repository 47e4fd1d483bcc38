"""Smaller leaks in sync input (issue 14, fault 6): duplicate JSON keys, a checksum that
left the header out, a folder named like an export in the team folder, and a bad
``config.yaml`` that ``dealdeck check`` passed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.models import Lead
from sync.exchange import merge_files
from sync.format import checksum
from tests.sync.conftest import legacy_export, refused_file
from tui.cli import main

Replica = Callable[[str], Store]


def parts(path: Path) -> tuple[dict, bytes]:
    head, body = path.read_bytes().split(b"\n", 1)
    return orjson.loads(head), body


def write(path: Path, header: dict, body: bytes, *, rehash: bool = True) -> None:
    if rehash:
        header = {**header, "sha256": checksum(header, hashlib.sha256(body).hexdigest())}
    path.write_bytes(orjson.dumps(header) + b"\n" + body)


def refused(store: Store, path: Path) -> str:
    message = refused_file(store, path)
    assert message.startswith(f"{path.name}: "), message
    return message


# --- duplicate keys ---------------------------------------------------------------------------


def test_a_field_twice_in_a_record_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Ada Lovelace")
    path = legacy_export(ann, shared)
    header, body = parts(path)
    # what a diff or an editor shows first is "Ada Lovelace"; orjson would keep the second
    body = body.replace(b'"name":"Ada Lovelace"', b'"name":"Ada Lovelace","name":"Eve"')
    write(path, header, body)
    message = refused(bo, path)
    assert f"leads record {lead.id}: the key 'name' appears twice in one object" in message


def test_a_stamp_twice_and_a_record_twice_are_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    lead = ann.new(Lead, name="Ada")
    path = legacy_export(ann, shared)
    header, body = parts(path)
    stamp = orjson.loads(body)["tables"]["leads"][lead.id]["_s"]["*"]
    twice = body.replace(b'"_s":{"*":"%s"' % stamp.encode(), b'"_s":{"*":"%s","*":"%s"' % ((stamp.encode(),) * 2))
    write(path, header, twice)
    assert f"leads record {lead.id}: _s: the key '*' appears twice" in refused(bo, path)
    doc = orjson.dumps(orjson.loads(body)["tables"]["leads"][lead.id])
    write(path, header, body.replace(doc, doc + b',"%s":%s' % (lead.id.encode(), doc)))
    assert f"leads record {lead.id}: appears twice in the file" in refused(bo, path)


def test_a_header_field_twice_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    path = legacy_export(ann, shared)
    head, body = path.read_bytes().split(b"\n", 1)
    path.write_bytes(head.replace(b'"rep":"ann"', b'"rep":"ann","rep":"bo"') + b"\n" + body)
    assert "header: the key 'rep' appears twice in one object" in refused(bo, path)


def test_the_same_content_written_another_way_is_still_read(replica: Replica, shared: Path) -> None:
    """Only a key twice is refused: spaces or escapes another JSON writer puts in are not."""
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    path = legacy_export(ann, shared)
    header, body = parts(path)
    write(path, header, body.replace(b'"name":"Ada"', b'"name" : "\\u0041da"'))
    merge_files(bo, [path])
    assert [lead.name for lead in bo.all(Lead)] == ["Ada"]


# --- the checksum covers the header -------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("rep", "bo"), ("replica", "fedcba9876543210"), ("seen", {}), ("app_version", "9.9"),
    ("exported_at", "2020-01-01T00:00:00+00:00"), ("counts", {"leads": 1, "customers": 0}),
])
def test_a_header_changed_after_export_is_refused(replica: Replica, shared: Path, field: str, value: object) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    path = legacy_export(ann, shared)
    header, body = parts(path)
    write(path, {**header, field: value}, body, rehash=False)
    assert "body: sha256 does not match the header" in refused(bo, path)


def test_a_version_1_export_is_still_read(replica: Replica, shared: Path) -> None:
    """Version 1 hashed the body alone: a team upgrades one rep at a time."""
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    path = legacy_export(ann, shared)
    header, body = parts(path)
    write(path, {**header, "version": 1, "sha256": hashlib.sha256(body).hexdigest()}, body, rehash=False)
    merge_files(bo, [path])
    assert [lead.name for lead in bo.all(Lead)] == ["Ada"]
    write(path, {**header, "version": 1, "sha256": "0" * 64}, body, rehash=False)
    assert "body: sha256 does not match the header" in refused(bo, path)


# --- entries of the team folder that are no files ----------------------------------------------


def test_a_folder_or_link_named_like_an_export_is_skipped_with_a_note(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    legacy_export(ann, shared)
    (shared / "x.dealdeck.json").mkdir()
    (shared / "y.dealdeck.json").symlink_to(shared / f"{ann.replica_id}.dealdeck.json")
    os.mkfifo(shared / "z.dealdeck.json")
    report = merge_files(bo, [shared])
    assert [lead.name for lead in bo.all(Lead)] == ["Ada"]
    assert [f.rep for f in report.files] == ["ann"]
    lines = report.lines()
    assert "skipped x.dealdeck.json: a folder, not an export file" in lines
    assert "skipped y.dealdeck.json: a symbolic link, not an export file" in lines
    assert "skipped z.dealdeck.json: not a regular file, not an export file" in lines


def test_a_folder_named_directly_is_still_searched_and_a_link_named_directly_refused(
        replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    own = legacy_export(ann, shared)
    link = shared.parent / "link.dealdeck.json"
    link.symlink_to(own)
    assert "a symbolic link" in refused(bo, link)


def test_the_command_line_prints_the_note(replica: Replica, shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ann, bo = replica("ann"), replica("bo")
    ann.new(Lead, name="Ada")
    legacy_export(ann, shared)
    (shared / "x.dealdeck.json").mkdir()
    bo.close()
    assert main(["sync", "merge", str(shared), "--data", str(bo.folder)]) == 0
    out = capsys.readouterr().out
    assert "skipped x.dealdeck.json: a folder, not an export file" in out and "1 added" in out


# --- dealdeck check reads config.yaml ------------------------------------------------------------


@pytest.mark.parametrize(("text", "problem"), [
    ("me: ann\nreps: [{id: ann, name: Ann}]\ntheme: 7\nsync: {max_file_mb: -1}\n", "config.yaml: "),
    ("me: [unclosed\n", "config.yaml: not valid YAML at line"),
    ("- just\n- a list\n", "config.yaml: expected a mapping of settings"),
])
def test_check_reports_a_bad_config_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                text: str, problem: str) -> None:
    folder = tmp_path / "data"
    with Store(folder) as store:
        store.new(Lead, name="Ada")
    (folder / "config.yaml").write_text(text)
    assert main(["check", "--data", str(folder)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and problem in err[0] and "Traceback" not in err[0], err
    assert main(["export", "csv", "leads", "--data", str(folder)]) == 1  # every other command refuses it too
    assert capsys.readouterr().err.splitlines() == [f"dealdeck: {err[0]}"]
