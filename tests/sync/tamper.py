"""Changing a replica's published files the way a broken tool or a tampering teammate
would: a segment's header or body rewritten (its checksum and its manifest entry made
to agree again, or not), a manifest edited."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from sync.format import checksum
from sync.team_files import MANIFEST

Json = dict[str, Any]


def manifest_of(folder: Path) -> Json:
    return orjson.loads((folder / MANIFEST).read_bytes())


def write_manifest(folder: Path, manifest: Json) -> None:
    (folder / MANIFEST).write_bytes(orjson.dumps(manifest))


def segment_files(folder: Path) -> list[Path]:
    return sorted(folder / ref["file"] for ref in manifest_of(folder)["segments"])


def unpack(path: Path) -> tuple[Json, Json]:
    header, body = gzip.decompress(path.read_bytes()).split(b"\n", 1)
    return orjson.loads(header), orjson.loads(body)


def rewrite(path: Path, *, header: Callable[[Json], None] = lambda h: None,
            body: Callable[[Json], None] = lambda b: None, body_bytes: Callable[[bytes], bytes] | None = None,
            sign: bool = True, list_it: bool = True) -> None:
    """Change a segment (or snapshot) as a tool would: ``header`` and ``body`` edit the parsed
    parts; ``sign`` makes its checksum agree again; ``list_it`` makes its manifest's size and
    SHA-256 agree (a teammate who edits both)."""
    fields, content = unpack(path)
    body(content)
    data = orjson.dumps(content) if body_bytes is None else body_bytes(orjson.dumps(content))
    header(fields)
    if sign:
        fields["sha256"] = checksum(fields, hashlib.sha256(data).hexdigest())
    packed = gzip.compress(orjson.dumps(fields) + b"\n" + data, mtime=0)
    path.write_bytes(packed)
    if list_it:
        relist(path)


def relist(path: Path) -> None:
    """The manifest's entry for ``path`` made to agree with its bytes."""
    manifest = manifest_of(path.parent)
    for ref in [*manifest["segments"], *manifest["snapshots"]]:
        if ref["file"] == path.name:
            ref["sha256"], ref["bytes"] = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size
    write_manifest(path.parent, manifest)
