"""`dealdeck import vcf` / `export vcf`: reports, private files, one-line refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import vobject

from store.database import Store
from store.models import Contact, Customer
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "vcf"
EVOLUTION = DATA / "ezvcard-John_Doe_EVOLUTION.vcf"
GMAIL_LIST = DATA / "ezvcard-gmail-list.vcf"
IOS = DATA / "aosp-v30_ios_613_multiline.vcf"


@pytest.fixture
def data(folder: Path) -> Iterator[Path]:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "me: alice\nreps:\n  - {id: alice, name: Alice Smith}\n  - {id: bob, name: Bob Jones}\n"
        "segments:\n  - {name: Makers, industry: manufacturing}\n", encoding="utf-8")
    yield folder


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_import_prints_the_report(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "import", "vcf", str(EVOLUTION), "--data", str(data), "--as", "bob")
    assert (status, err) == (0, "")
    assert out == f"imported {EVOLUTION}: 1 card: 1 added, 0 updated, 0 unchanged, 0 skipped; created 1 customer: IBM\n"
    with Store(data) as store:
        (contact,) = store.all(Contact)
        assert contact.owner == "bob" and store.all(Customer)[0].owner == "bob"
    status, out, _ = run(capsys, "import", "vcf", str(EVOLUTION), "--data", str(data))
    assert status == 0 and ": 0 added, 0 updated, 1 unchanged, 0 skipped" in out


def test_skipped_cards_are_listed_and_nothing_imported_is_refused(data: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "import", "vcf", str(GMAIL_LIST), "--data", str(data))
    assert status == 1
    assert err.splitlines() == [f"card {n} ({name}): skipped: no ORG (company) on the card; give --customer NAME "
                                "for such cards" for n, name in ((1, "Arnold Smith"), (2, "Chris Beatle"),
                                                                 (3, "Doug White"))]
    assert out.endswith("0 added, 0 updated, 0 unchanged, 3 skipped\n")
    with Store(data) as store:
        store.new(Customer, name="Walk-ins")
    status, out, err = run(capsys, "import", "vcf", str(GMAIL_LIST), "--customer", "Walk-ins", "--data", str(data))
    assert (status, err) == (0, "") and "3 added" in out


def test_dry_run_changes_no_file(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(data):
        pass
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file() and p.name != ".lock"}
    status, out, _ = run(capsys, "import", "vcf", str(IOS), "--dry-run", "--data", str(data))
    assert status == 0 and out.startswith("dry run, nothing written:") and "would create 1 customer" in out
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file() and p.name != ".lock"} == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("gone.vcf", None, "no such file"),
    ("not.vcf", b"\x00\x01binary\xff\xfe", "holds no vCard"),
    ("big.csv", b"name,email\nAda,ada@example.com\n", "holds no vCard"),
])
def test_an_unreadable_file_is_one_line(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    status, out, err = run(capsys, "import", "vcf", str(path), "--data", str(data))
    assert (status, out) == (1, "")
    assert err.startswith("dealdeck: ") and message in err and err.count("\n") == 1


def test_a_missing_customer_is_one_line(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "import", "vcf", str(GMAIL_LIST), "--customer", "Nobody", "--data", str(data))
    assert status == 1 and err == "dealdeck: --customer Nobody: no customer named 'Nobody'\n"


def test_export_to_a_private_file_reads_back(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "import", "vcf", str(EVOLUTION), "--data", str(data))
    target = tmp_path / "contacts.vcf"
    status, out, err = run(capsys, "export", "vcf", "-o", str(target), "--data", str(data))
    assert (status, out, err) == (0, "", f"wrote 1 contact to {target}\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    raw = target.read_bytes()
    assert raw.startswith(b"BEGIN:VCARD\r\nVERSION:3.0\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    (card,) = vobject.readComponents(raw.decode("utf-8"))
    assert card.uid.value == "477343c8e6bf375a9bac1f96a5000837" and card.org.value == ["IBM"]
    status, out, _ = run(capsys, "import", "vcf", str(target), "--data", str(data))
    assert status == 0 and "0 added, 0 updated, 1 unchanged" in out


def test_export_to_stdout_as_version_40(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "import", "vcf", str(IOS), "--data", str(data))
    status, out, err = run(capsys, "export", "vcf", "--version", "4.0", "--customer", "smith auto repair",
                           "--data", str(data))
    assert (status, err) == (0, "")
    assert out.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n") and "FN:Bob Smith\r\n" in out


def test_export_refusals(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "export", "vcf", "--segment", "Buyers", "--data", str(data))
    assert (status, out) == (1, "")
    assert err == "dealdeck: no saved segment 'Buyers' (segments: Makers)\n"
    status, _, err = run(capsys, "export", "vcf", "--segment", "Makers", "--customer", "X", "--data", str(data))
    assert status == 2 and "not allowed with argument" in err


def test_a_name_with_markup_is_printed_as_it_is(data: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    card = tmp_path / "markup.vcf"
    card.write_bytes(GMAIL_LIST.read_bytes().replace(b"FN:Arnold Smith", b"FN:[@click=app.quit]x[/]"))
    status, _, err = run(capsys, "import", "vcf", str(card), "--data", str(data))
    assert status == 1 and err.startswith("card 1 ([@click=app.quit]x[/]): skipped:")


def test_help_does_not_load_vobject() -> None:
    code = ("import sys; from tui.cli import build_parser; build_parser(); "
            "sys.exit(1 if 'vobject' in sys.modules or 'store.vcards' in sys.modules else 0)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env).returncode == 0


@pytest.mark.parametrize(("which", "message"), [
    (["--segment", "makers"], "--segment makers: no contacts to export (no customer in the segment has one)"),
    (["--customer", "Acme"], "--customer Acme: no contacts to export (the customer has none)"),
    ([], "no contacts to export (there are none yet)"),
])
def test_nothing_to_export_is_one_line_and_no_file(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   which: list[str], message: str) -> None:
    with Store(data) as store:
        store.new(Customer, name="Acme", industry="Manufacturing")  # in the segment, without contacts
    for output in ([], ["-o", str(tmp_path / "none.vcf")]):
        status, out, err = run(capsys, "export", "vcf", *which, *output, "--data", str(data))
        assert (status, out, err) == (1, "", f"dealdeck: {message}\n")
    assert not (tmp_path / "none.vcf").exists()


def test_export_writes_the_structured_name_and_kinds_of_the_card(data: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "import", "vcf", str(DATA / "ezvcard-outlook-2007.vcf"), "--data", str(data))
    run(capsys, "import", "vcf", str(DATA / "vobject-vcard40_full.vcf"), "--data", str(data))
    status, out, _ = run(capsys, "export", "vcf", "--version", "4.0", "--data", str(data))
    assert status == 0
    assert "N:Angstadt;Michael;;Mr.;Jr.\r\n" in out and "N:Public;John;Q.;Dr.;III\r\n" in out
    assert "EMAIL;TYPE=home:johnny@personal.example.org\r\n" in out  # PREF=1;TYPE=home on the card
    assert "EMAIL:mike.angstadt@gmail.com\r\n" in out  # EMAIL;PREF;INTERNET: no kind, so none is made up
