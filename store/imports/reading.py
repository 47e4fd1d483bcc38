"""Reading a CSV file a row at a time: its encoding, its delimiter, its rows.

The encoding and the delimiter are found from the first megabyte; the rows
are then streamed, so a file of any size costs the memory of one row. Excel's
habits are understood: a UTF-8 or UTF-16 byte order mark, ``sep=;`` as the
first line, and "CSV" saved as GBK (Chinese Windows) or Windows-1252.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from store.errors import StoreError

SAMPLE_BYTES = 1 << 20
#: a block of whole records handed to an import worker (``CsvFile.batches``)
BLOCK_BYTES = 256 << 10
#: a record longer than this (with its block) is no reason to hold the file in memory
MAX_BLOCK_BYTES = 16 << 20
#: encodings in which a newline or a quote byte is always that character (never part of
#: another one), so that the bytes can be cut into blocks of records before decoding
SPLITTABLE = frozenset({"utf-8", "utf-8-sig", "gbk", "cp1252"})
#: csv's own limit is 128 KB; a notes cell of a real export can be longer
csv.field_size_limit(8 << 20)
CsvRow = tuple[int, list[str]]
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "utf-16": "UTF-16", "utf-16-le": "UTF-16",
                  "utf-16-be": "UTF-16", "gbk": "GBK (Chinese)", "cp1252": "Windows-1252 (Western)"}


class Refused(Exception):
    """The whole file is refused; ``str(error)`` is the one line to show."""


class BlockUnreadable(Exception):
    """A block did not read as whole records (``CsvFile.block_rows``): read it in order."""


@dataclass(frozen=True)
class TextBlock:
    """Whole records of a file, not yet decoded: they begin at byte ``offset``, on ``line``."""

    offset: int
    line: int
    data: bytes


@dataclass(frozen=True)
class CsvFile:
    """A CSV file's shape, found before any row is read."""

    path: Path
    encoding: str
    delimiter: str
    #: the first line was Excel's ``sep=X`` hint
    sep_hint: bool
    size: int

    @property
    def encoding_name(self) -> str:
        return ENCODING_NAMES.get(self.encoding, self.encoding)

    def rows(self, offset: int = 0, line: int = 1) -> Iterator[CsvRow]:
        """Non-blank records with the line each starts on (quoted cells may span lines),
        from the start or from a record that begins at byte ``offset``, on ``line``."""
        try:
            with self.path.open("rb") as raw:
                raw.seek(offset)
                with io.TextIOWrapper(raw, encoding=self._encoding_at(offset), newline="") as text:
                    yield from self._records(text, line, skip_hint=self.sep_hint and not offset)
        except UnicodeDecodeError:
            raise Refused(f"{self.path} is not {self.encoding_name} text throughout "
                          "(save it as CSV UTF-8)") from None
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror}") from None

    def _records(self, text: Iterable[str], start: int, *, skip_hint: bool) -> Iterator[CsvRow]:
        reader = csv.reader(text, delimiter=self.delimiter, strict=True)
        first = start - 1
        try:
            for cells in reader:
                if skip_hint:
                    skip_hint = False
                elif "".join(cells).strip():  # one C call, not a generator per cell
                    yield start, cells
                start = first + reader.line_num + 1
        except csv.Error as exc:
            problem = "a quoted cell is never closed" if "end of data" in str(exc) else str(exc)
            raise Refused(f"{self.path} line {start}: {problem}") from None

    def _encoding_at(self, offset: int) -> str:
        """The codec for text from byte ``offset``: a byte order mark is only at the start."""
        return "utf-8" if offset and self.encoding == "utf-8-sig" else self.encoding

    def batches(self, rows: int) -> Iterator[list[CsvRow] | TextBlock]:
        """The file for import workers: its first block read here, as lists of at most
        ``rows`` records (the header and what the first rows decide about the file stay
        in order), then blocks of whole records for the workers to read (``block_rows``).
        A file whose bytes cannot be cut before decoding is read here throughout, and so
        is the rest of one where no cut is found within ``MAX_BLOCKS_BYTES``."""
        if self.encoding not in SPLITTABLE:
            yield from chunked(self.rows(), rows)
            return
        for index, piece in enumerate(self._blocks()):
            if isinstance(piece, TextBlock) and index == 0:
                try:
                    piece = self.block_rows(piece, skip_hint=self.sep_hint)
                except BlockUnreadable:
                    yield from chunked(self.rows(), rows)
                    return
            if isinstance(piece, TextBlock):
                yield piece
            else:
                yield from chunked(iter(piece), rows)

    def block_rows(self, block: TextBlock, *, skip_hint: bool = False) -> list[CsvRow]:
        """A block's records, as ``rows`` reads them. ``BlockUnreadable`` when it does not
        decode or does not end on a record's end: a quote inside an unquoted cell
        (``5" screen``) misled the cut, or the file is damaged there; either way the caller
        reads on in order from the block's start (``rows``), which says which."""
        try:
            text = block.data.decode(self._encoding_at(block.offset))
            return list(self._records(io.StringIO(text, newline=""), block.line, skip_hint=skip_hint))
        except (UnicodeDecodeError, Refused):
            raise BlockUnreadable from None

    def _blocks(self) -> Iterator[TextBlock | Iterator[CsvRow]]:
        """The file in blocks of about ``BLOCK_BYTES``, each cut after a newline with an even
        number of quotes before it: outside any quoted cell, if every quote opens, closes
        or doubles one (``block_rows`` finds out when one did not). Past ``MAX_BLOCK_BYTES``
        without such a newline, the rest is read in order."""
        try:
            with self.path.open("rb") as raw:
                offset, line, data = 0, 1, b""
                while True:
                    chunk = raw.read(BLOCK_BYTES)
                    data += chunk
                    cut = _record_end(data) if chunk else len(data)
                    if cut is None and len(data) > MAX_BLOCK_BYTES:
                        yield self.rows(offset, line)
                        return
                    if cut:
                        block, data = data[:cut], data[cut:]
                        yield TextBlock(offset, line, block)
                        offset, line = offset + cut, line + _line_count(block)
                    if not chunk:
                        return
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror}") from None


def _record_end(data: bytes) -> int | None:
    """Where the last whole record of ``data`` ends (just after a newline that an even
    number of quotes comes before), or None when there is no such newline."""
    end = data.rfind(b"\n")
    if end < 0:
        return None
    quotes = data.count(b'"', 0, end)
    while quotes % 2:
        previous = data.rfind(b"\n", 0, end)
        if previous < 0:
            return None
        quotes -= data.count(b'"', previous, end)
        end = previous
    return end + 1


def _line_count(data: bytes) -> int:
    """Lines as ``newline=""`` text counts them: after each \\n, \\r\\n or lone \\r."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def chunked(rows: Iterator[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    """``rows`` in lists of ``size``."""
    batch: list[CsvRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def with_first(first: CsvRow, rest: Iterator[CsvRow]) -> Iterator[CsvRow]:
    """``first`` (a row already read, e.g. to find the header) and then the others."""
    yield first
    yield from rest


def open_csv(path: Path, max_bytes: int) -> CsvFile:
    """The file's encoding and delimiter; a folder, a missing file or one larger than
    ``max_bytes`` is refused before its rows are read."""
    try:
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a CSV file")
        size = path.stat().st_size
        if size > max_bytes:
            raise Refused(f"{path} is {size / 2**20:.0f} MB, larger than the limit of {max_bytes // 2**20} MB "
                          "(imports.max_file_mb in config.yaml); split it or raise the limit")
        with path.open("rb") as file:
            sample = file.read(SAMPLE_BYTES)
    except FileNotFoundError:
        raise StoreError(f"no such file: {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    encoding, text = _decode(sample, whole=size <= SAMPLE_BYTES, path=path)
    delimiter, hint = _delimiter(text.lstrip("\ufeff"))
    return CsvFile(path, encoding, delimiter, hint, size)


def _decode(data: bytes, *, whole: bool, path: Path) -> tuple[str, str]:
    """UTF-8 (BOM or not), UTF-16 (as Excel's "Unicode text"), else GBK or
    Windows-1252 when the text plainly is one of them; anything else is refused."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    candidates: list[tuple[str, Callable[[str], bool]]] = [
        (codec, _anything) for bom, codec in boms if data.startswith(bom)]
    if not candidates:
        candidates = [(_utf16_without_bom(data) or "utf-8", _anything), ("gbk", _looks_chinese),
                      ("cp1252", _looks_western)]
    for codec, plausible in candidates:
        try:
            # The sample may end inside a character: only the whole file must end cleanly.
            text = codecs.getincrementaldecoder(codec)().decode(data, final=whole)
        except UnicodeDecodeError:
            continue
        if plausible(text):
            return codec, text
    raise Refused(f"{path} is not UTF-8 text (save it as CSV UTF-8)")


def _anything(text: str) -> bool:
    return True


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:2000]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0) / len(sample[0::2]), sample[1::2].count(0) / len(sample[1::2])
    if odd > 0.3 and even == 0:
        return "utf-16-le"
    return "utf-16-be" if even > 0.3 and odd == 0 else None


def _looks_chinese(text: str) -> bool:
    """Read as GBK, nearly every non-ASCII character is a common (GB2312) one:
    Western text read as GBK makes rare characters out of a letter and its neighbour."""
    wide = [ch for ch in text if ord(ch) > 127]
    common = sum(1 for ch in wide if _gb2312(ch))
    return bool(wide) and common >= 0.9 * len(wide)


def _gb2312(ch: str) -> bool:
    encoded = ch.encode("gbk")
    return len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1


def _looks_western(text: str) -> bool:
    """Read as Windows-1252, accented letters mostly stand alone among ASCII ones
    (East Asian text read that way is all runs of accented letters)."""
    wide = [i for i, ch in enumerate(text) if ord(ch) > 127]
    paired = sum(1 for i in wide if (i > 0 and ord(text[i - 1]) > 127)
                 or (i + 1 < len(text) and ord(text[i + 1]) > 127))
    return paired <= 0.5 * len(wide)


def _delimiter(text: str) -> tuple[str, bool]:
    """The delimiter, and whether the first line is Excel's ``sep=X`` hint."""
    hint = re.match(r"sep=([,;\t|])\r?\n", text)
    if hint:
        return hint.group(1), True
    sample = text[:65536]
    try:
        widths = {d: len(next(csv.reader(io.StringIO(sample, newline=""), delimiter=d), [])) for d in ",;\t"}
    except csv.Error:
        return ",", False
    return max(widths, key=lambda d: widths[d]), False
