"""The hostile-file corpus for the team folder's layout: manifests and segments that a
broken tool, a slow transfer or a tampering teammate leave. Each is refused with its
reason, nothing of it is merged, the database is left as it was, and the teammate's
later segments wait; a good copy arriving later merges."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from store.database import Store
from store.models import Lead
from sync.exchange import export_to, merge_files
from sync.team_files import MANIFEST, segment_name
from tests.sync import tamper
from tests.sync.conftest import folder_bytes

Replica = Callable[[str], Store]


def database_bytes(store: Store) -> dict[str, bytes]:
    return {name: data for name, data in folder_bytes(store.folder).items() if name != "sync-state.json"}


def published(store: Store, shared: Path, *names: str) -> list[Path]:
    """Each name a lead of its own, each in a segment of its own."""
    paths = []
    for name in names:
        store.new(Lead, name=name)
        segment = export_to(store, shared).segment
        assert segment is not None
        paths.append(segment)
    return paths


def refusal(store: Store, shared: Path) -> tuple[str, list[str]]:
    """Merge the team folder: exactly one file refused; its reason and the lines that wait."""
    store.storage.compact()
    before = database_bytes(store)
    report = merge_files(store, [shared])
    assert len(report.refused) == 1, report.lines()
    assert database_bytes(store) == before
    _, why = report.refused[0]
    assert "\n" not in why
    return why, report.waiting


def names(store: Store) -> list[str]:
    return sorted(lead.name for lead in store.all(Lead))


def test_a_manifest_naming_a_segment_that_is_not_there_waits_for_it(replica: Replica, shared: Path) -> None:
    """Not a fault (a sync tool often brings the manifest first): nothing of that teammate
    is merged, the report says what it waits for, and the command does not fail."""
    ann, bo = replica("ann"), replica("bo")
    first, _ = published(ann, shared, "Ada", "Ben")
    kept = first.read_bytes()
    first.unlink()
    bo.storage.compact()
    before = database_bytes(bo)
    report = merge_files(bo, [shared])
    assert report.refused == [] and database_bytes(bo) == before
    assert report.waiting == [f"ann ({ann.replica_id}): segment 1 has not arrived yet (its manifest names it); "
                              "it merges at a later sync"]
    first.write_bytes(kept)
    merge_files(bo, [shared])
    assert names(bo) == ["Ada", "Ben"]


def test_a_segment_of_another_replica_in_a_teammates_folder_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo, cy = replica("ann"), replica("bo"), replica("cy")
    published(ann, shared, "Ada")
    (theirs,) = published(cy, shared, "Cy's")
    merge_files(bo, [shared])
    ann.new(Lead, name="Ann's second")
    own = shared / ann.replica_id
    manifest = tamper.manifest_of(own)
    last = manifest["segments"][-1]
    # cy's segment, renamed and listed as ann's next one
    header, _ = tamper.unpack(theirs)
    name = segment_name(2, header["first"], header["last"])
    shutil.copy(theirs, own / name)
    manifest["segments"].append({**last, "seq": 2, "file": name, "first": header["first"], "last": header["last"]})
    tamper.write_manifest(own, manifest)
    tamper.relist(own / name)
    why, _ = refusal(bo, shared)
    assert why.startswith("manifest: segment 2: its stamps are another replica's")


def test_a_segment_header_naming_another_replica_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")
    tamper.rewrite(segment, header=lambda header: header.update(replica=bo.replica_id))
    why, _ = refusal(bo, shared)
    assert why.startswith(f"header: replica: '{bo.replica_id}' is not its manifest's '{ann.replica_id}'")


def test_a_replayed_old_segment_is_refused(replica: Replica, shared: Path) -> None:
    """Segment 1 sent again as segment 3: its stamps do not come after segment 2's."""
    ann, bo = replica("ann"), replica("bo")
    first, _ = published(ann, shared, "Ada", "Ben")
    merge_files(bo, [shared])
    own = shared / ann.replica_id
    manifest = tamper.manifest_of(own)
    old = manifest["segments"][0]
    replayed = segment_name(3, old["first"], old["last"])
    shutil.copy(first, own / replayed)
    manifest["segments"].append({**old, "seq": 3, "file": replayed})
    tamper.write_manifest(own, manifest)
    why, _ = refusal(bo, shared)
    assert why.startswith("manifest: segment 3: its stamps") and "a replayed old segment?" in why


def test_a_replayed_segment_under_its_own_new_header_is_refused(replica: Replica, shared: Path) -> None:
    """The same, with the header rewritten and re-signed to pass for segment 3: its
    records' stamps are outside the range it claims."""
    ann, bo = replica("ann"), replica("bo")
    first, _ = published(ann, shared, "Ada", "Ben")
    merge_files(bo, [shared])
    ann.new(Lead, name="Cy")
    export_to(ann, shared)
    own = shared / ann.replica_id
    manifest = tamper.manifest_of(own)
    third = manifest["segments"][2]
    (own / third["file"]).write_bytes(first.read_bytes())
    tamper.rewrite(own / third["file"], header=lambda h: h.update(seq=3, first=third["first"], last=third["last"]))
    why, _ = refusal(bo, shared)
    assert "is outside the segment's range" in why
    assert names(bo) == ["Ada", "Ben"]


def test_a_segment_with_another_replicas_stamps_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")

    def stamps_of_bo(body: dict) -> None:
        for doc in body["tables"]["leads"].values():
            doc["_s"] = {key: stamp[:-16] + bo.replica_id for key, stamp in doc["_s"].items()}

    tamper.rewrite(segment, body=stamps_of_bo)
    why, _ = refusal(bo, shared)
    assert f"is replica {bo.replica_id}'s, not ann's (replica {ann.replica_id})" in why


def test_a_partial_record_with_a_field_it_does_not_stamp_is_refused(replica: Replica, shared: Path) -> None:
    """A change of a teammate's record carries only what its replica stamped: a value
    slipped in beside it (the owner, say) has no stamp to merge by."""
    ann, bo = replica("ann"), replica("bo")
    lead = bo.new(Lead, name="Bo's lead")
    export_to(bo, shared)
    merge_files(ann, [shared])
    ann.update(Lead, lead.id, title="Buyer")
    segment = export_to(ann, shared).segment
    assert segment is not None

    def take_the_owner(body: dict) -> None:
        body["tables"]["leads"][lead.id]["owner"] = "ann"

    tamper.rewrite(segment, body=take_the_owner)
    why, _ = refusal(bo, shared)
    assert why.startswith(f"leads record {lead.id}: owner: a change of another replica's record without its own stamp")
    assert bo.require(Lead, lead.id).owner == "bo"


def test_a_whole_record_missing_a_field_every_record_holds_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")

    def without_created_at(body: dict) -> None:
        for doc in body["tables"]["leads"].values():
            del doc["created_at"]

    tamper.rewrite(segment, body=without_created_at)
    why, _ = refusal(bo, shared)
    assert "created_at: missing" in why


def test_a_segment_that_unpacks_past_the_size_limit_is_refused(replica: Replica, shared: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")
    segment.write_bytes(gzip.compress(b" " * (201 * 2**20), compresslevel=9))  # 200 KB packed
    tamper.relist(segment)
    why, _ = refusal(bo, shared)
    assert why.startswith("file: unpacks to more than the size limit of 200 MB")


@pytest.mark.parametrize(("kind", "expected"), [
    ("not json", "manifest: not valid JSON"),
    ("another replica", "manifest: names replica"),
    ("newer layout", "manifest: written by a newer Dealdeck"),
    ("a segment twice", "manifest: segment numbers 1, 1 are not the ones after the folded 0"),
    ("path in a file name", "manifest: segment 1: '../../etc/passwd' is not its file name"),
])
def test_a_bad_manifest_is_refused_and_nothing_of_its_replica_merged(replica: Replica, shared: Path, kind: str,
                                                                     expected: str) -> None:
    ann, bo = replica("ann"), replica("bo")
    published(ann, shared, "Ada")
    own = shared / ann.replica_id
    manifest = tamper.manifest_of(own)
    if kind == "not json":
        (own / MANIFEST).write_bytes(b'{"format": "dealdeck-manifest", ')
    else:
        if kind == "another replica":
            manifest["replica"] = bo.replica_id
        elif kind == "newer layout":
            manifest["version"] = 9
        elif kind == "a segment twice":
            manifest["segments"].append(manifest["segments"][0])
        elif kind == "path in a file name":
            manifest["segments"][0]["file"] = "../../etc/passwd"
        tamper.write_manifest(own, manifest)
    why, _ = refusal(bo, shared)
    assert why.startswith(expected), why
    assert names(bo) == []


def test_a_manifest_or_segment_that_is_a_link_is_not_followed(replica: Replica, shared: Path,
                                                              tmp_path: Path) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")
    elsewhere = tmp_path / "elsewhere.gz"
    segment.rename(elsewhere)
    segment.symlink_to(elsewhere)
    why, _ = refusal(bo, shared)
    assert why == "file: a symbolic link; team files are read only as regular files"


def test_one_teammates_bad_segment_holds_back_only_what_depends_on_it(replica: Replica, shared: Path) -> None:
    """cy's segment is refused; ann's, written before ann merged cy's, merges; ann's later
    one, written after ann merged cy's, waits for cy's."""
    ann, bo, cy = replica("ann"), replica("bo"), replica("cy")
    published(ann, shared, "Ada")
    (bad,) = published(cy, shared, "Cy's")
    merge_files(ann, [shared])
    published(ann, shared, "Ann's after Cy's")
    good = bad.read_bytes()
    bad.write_bytes(good[:-10])
    report = merge_files(bo, [shared])
    assert [path for path, _ in report.refused] == [bad]
    assert any(line.startswith("ann (") and "waits for cy's segment 1" in line for line in report.waiting)
    assert names(bo) == ["Ada"]
    bad.write_bytes(good)
    merge_files(bo, [shared])
    assert names(bo) == ["Ada", "Ann's after Cy's", "Cy's"]


def test_the_command_line_names_each_refused_file_on_stderr(replica: Replica, shared: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")
    segment.write_bytes(segment.read_bytes()[:-5])
    bo.close()
    assert main(["sync", "merge", str(shared), "--data", str(bo.folder)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"dealdeck: refused {ann.replica_id}/{segment.name}: file: ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert orjson.loads((shared / ann.replica_id / MANIFEST).read_bytes())["segments"][0]["file"] == segment.name


@pytest.mark.parametrize(("seen", "expected"), [
    (lambda ann, bo: {bo: ["not", "a", "stamp"]}, "header: seen: not the newest stamps by replica id"),
    (lambda ann, bo: {bo: f"1700000000000000:0000:{ann}"}, "header: seen: not the newest stamps by replica id"),
    (lambda ann, bo: {bo: f"9999999999999999:0000:{bo}"}, "header: seen: stamp 9999999999999999"),
], ids=["a-list", "another-replicas-stamp", "in-the-future"])
def test_a_segment_header_with_a_bad_seen_vector_is_refused(replica: Replica, shared: Path,
                                                           seen: Callable[[str, str], object], expected: str) -> None:
    ann, bo = replica("ann"), replica("bo")
    (segment,) = published(ann, shared, "Ada")
    tamper.rewrite(segment, header=lambda header: header.update(seen=seen(ann.replica_id, bo.replica_id)))
    why, _ = refusal(bo, shared)
    assert why.startswith(expected), why
