"""`dealdeck check` reports change stamps in the future; `--repair-clock` re-stamps this replica's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.database import Store
from store.models import Lead
from tui.app import DealdeckApp
from tui.cli import main

#: far enough ahead of any real clock that runs these tests (the command line reads the real one)
IN_2100 = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)


def ran_ahead(folder: Path) -> str:
    """Two leads written with the system clock in 2100, one of them then deleted; returns its id."""
    with Store(folder, wall=lambda: IN_2100) as store:
        store.new(Lead, name="Ada")
        gone = store.new(Lead, name="Spam")
        store.delete(Lead, gone.id)
    return gone.id


def test_check_reports_future_stamps_and_the_repair_clears_them(folder: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    gone = ran_ahead(folder)
    assert main(["check", "--data", str(folder)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("2 change stamp(s) of this replica are in the future, up to ")
    assert err[1].startswith("1 delete stamp(s) of this replica are in the future")
    assert all("years ahead" in line and "run `dealdeck check --repair-clock`" in line for line in err)

    assert main(["check", "--data", str(folder), "--repair-clock"]) == 0
    out = capsys.readouterr()
    assert "re-stamped 3 change(s) of this replica" in out.out and "all files are sound" in out.out
    assert out.err == ""
    with Store(folder) as store:  # the real clock now: it can write, and the delete held
        assert store.clock_warning() is None
        assert store.get(Lead, gone) is None
        store.new(Lead, name="Bea")
    assert main(["check", "--data", str(folder), "--repair-clock"]) == 0
    assert "no change stamps of this replica are in the future" in capsys.readouterr().out


def test_a_write_on_a_replica_that_ran_ahead_is_one_line(folder: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    ran_ahead(folder)
    data = tmp_path / "people.csv"
    data.write_text("name\nCy\n")
    assert main(["import", "csv", str(data), "--as", "leads", "--data", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "ahead of this computer's clock" in err and "dealdeck check --repair-clock" in err
    assert "Traceback" not in err


def test_another_replicas_future_stamps_are_a_note_not_a_failure(folder: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    ran_ahead(other)
    with Store(other) as theirs, Store(folder) as ours, ours.storage.transaction() as txn:
        for doc in theirs.storage.tables["leads"].values():  # as an old Dealdeck merged them
            txn.put("leads", dict(doc))
    assert main(["check", "--data", str(folder)]) == 0
    out = capsys.readouterr()
    assert out.err.startswith("note: 2 change stamp(s) of replica ") and "not this one's to re-stamp" in out.err
    assert "all files are sound" in out.out


async def test_the_app_warns_on_open_with_the_fix_command(folder: Path) -> None:
    ran_ahead(folder)
    with Store(folder) as store:
        app = DealdeckApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            messages = [str(n.message) for n in app._notifications]
    assert any("ahead of this computer's clock" in m and "dealdeck check --repair-clock" in m for m in messages)
