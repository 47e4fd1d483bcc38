"""`dealdeck export ics`: stdout and private files, whose calendar, one-line refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar

from store.database import Store
from store.models import Customer, Lead
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(folder: Path) -> Iterator[Path]:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "me: alice\nreps:\n  - {id: alice, name: Alice Smith}\n  - {id: bob, name: Bob Jones}\n", encoding="utf-8")
    with Store(folder) as store:
        store.new(Lead, name="Ana Li", company="Acme", next_follow_up=date(2026, 12, 1))
        store.new(Lead, name="Bo Bob", owner="bob", next_follow_up=date(2026, 12, 2))
        store.new(Customer, name="Bobco", owner="bob", lifecycle="active", next_revisit=date(2026, 12, 3))
    yield folder


def summaries(ics: bytes) -> list[str]:
    return sorted(str(e["summary"]) for e in Calendar.from_ical(ics).walk("VEVENT"))


def run(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, str]:
    status = main(["export", "ics", *args])
    out, err = capsysbinary.readouterr()
    return status, out, err.decode("utf-8")


def test_stdout_gets_my_calendar_as_crlf_bytes(data: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, out, err = run(capsysbinary, "--data", str(data))
    assert status == 0 and err == ""
    assert out.startswith(b"BEGIN:VCALENDAR\r\n") and b"\n" not in out.replace(b"\r\n", b"")
    assert summaries(out) == ["Follow up: Ana Li (Acme)"]


@pytest.mark.parametrize("who", [["--as", "bob"], ["--rep", "bob"], ["--as", "alice", "--rep", "bob"]])
def test_another_reps_calendar(data: Path, capsysbinary: pytest.CaptureFixture[bytes], who: list[str]) -> None:
    status, out, _ = run(capsysbinary, "--data", str(data), *who)
    assert status == 0
    assert summaries(out) == ["Follow up: Bo Bob", "Revisit: Bobco"]
    assert Calendar.from_ical(out)["x-wr-calname"] == "Dealdeck: Bob Jones"


def test_the_teams_calendar(data: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, out, _ = run(capsysbinary, "--data", str(data), "--team")
    assert status == 0
    assert summaries(out) == ["Follow up: Ana Li (Acme) · Alice Smith", "Follow up: Bo Bob · Bob Jones",
                              "Revisit: Bobco · Bob Jones"]


def test_output_file_is_private_and_replaced_whole(data: Path, tmp_path: Path,
                                                   capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    target = tmp_path / "synced" / "dealdeck.ics"
    target.parent.mkdir()
    target.write_text("old calendar")
    target.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        status, out, err = run(capsysbinary, "--data", str(data), "-o", str(target))
    finally:
        os.umask(old_umask)
    assert status == 0 and out == b""
    assert err == f"wrote 1 events for alice to {target}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    written = target.read_bytes()
    assert written.endswith(b"END:VCALENDAR\r\n") and b"\n" not in written.replace(b"\r\n", b"")
    assert summaries(written) == ["Follow up: Ana Li (Acme)"]
    assert not [p for p in target.parent.iterdir() if p.name != target.name], "no temp file left"


def test_writing_again_gives_the_same_file(data: Path, tmp_path: Path,
                                           capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    target = tmp_path / "dealdeck.ics"
    run(capsysbinary, "--data", str(data), "-o", str(target), "--team")
    first = target.read_bytes()
    run(capsysbinary, "--data", str(data), "-o", str(target), "--team")
    assert target.read_bytes() == first


def test_an_unknown_rep_is_one_line(data: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, out, err = run(capsysbinary, "--data", str(data), "--rep", "carol")
    assert status == 1 and out == b""
    assert err == "dealdeck: no rep 'carol' (reps: alice, bob; by id, name or e-mail)\n"
    status, _, err = run(capsysbinary, "--data", str(data), "--rep", "auto")  # no one's calendar
    assert status == 1 and err.startswith("dealdeck: no rep 'auto' ")


@pytest.mark.parametrize("rep", ["Bob Jones", "bob jones", "  BOB JONES ", "bob@example.com", "BOB"])
def test_a_rep_by_name_or_email_without_case(data: Path, capsysbinary: pytest.CaptureFixture[bytes],
                                              rep: str) -> None:
    (data / "config.yaml").write_text("me: alice\nreps:\n  - {id: alice, name: Alice Smith}\n"
                                      "  - {id: bob, name: Bob Jones, email: Bob@Example.com}\n", encoding="utf-8")
    status, out, err = run(capsysbinary, "--data", str(data), "--rep", rep)
    assert (status, err) == (0, "")
    assert summaries(out) == ["Follow up: Bo Bob", "Revisit: Bobco"]
    assert Calendar.from_ical(out)["x-wr-calname"] == "Dealdeck: Bob Jones"


def test_rep_and_team_together_are_a_usage_error(data: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, out, err = run(capsysbinary, "--data", str(data), "--rep", "bob", "--team")
    assert status == 2 and out == b"" and "not allowed with" in err


def test_an_unwritable_output_is_one_line(data: Path, tmp_path: Path,
                                          capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, _, err = run(capsysbinary, "--data", str(data), "-o", str(tmp_path / "missing" / "x.ics"))
    assert status == 1 and err.startswith("dealdeck: cannot write ") and err.count("\n") == 1


def test_the_command_line_does_not_load_icalendar_until_asked() -> None:
    code = ("import sys; from tui.cli import build_parser; build_parser(); import store.calendar_export; "
            "print('icalendar' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "ics", "--help"])
    text = capsys.readouterr().out
    assert all(option in text for option in ("-o FILE", "--rep REP", "--team", "--as REP", "--data DIR"))
