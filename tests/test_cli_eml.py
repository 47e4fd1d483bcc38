"""`dealdeck import eml` on real messages (tests/data/eml, see SOURCES.md) and real data folders."""

from __future__ import annotations

import mailbox
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.database import Store
from store.mail_log import import_mail
from store.models import Activity, Contact, Customer, Lead, Opportunity
from tui.cli import main

EML = Path(__file__).resolve().parent / "data" / "eml"
CONFIG = """\
me: alice
reps:
  - {id: alice, name: Alice Smith, email: alice@ourco.example}
  - {id: bob, name: Bob Jones, email: bob@example.com}
"""


@dataclass
class Ids:
    reporter: str
    hasen: str
    heinz: str
    deal: str
    one_co: str
    megan: str
    megan_lead: str
    future: str


def fill(store: Store) -> Ids:
    hasen = store.new(Customer, name="Hasen GmbH", email="info@hasen.example")
    one_co = store.new(Customer, name="One Co")
    for title in ("Frösche order", "Second order"):  # One Co has two open deals, Hasen one
        store.new(Opportunity, title=title, customer_id=one_co.id, stage="initial")
    deal = store.new(Opportunity, title="Frösche order", customer_id=hasen.id, stage="quote")
    store.new(Opportunity, title="Done deal", customer_id=hasen.id, stage="won")
    store.new(Customer, name="Alex Q Ltd", email="xxx@yahoo.com")
    future = store.new(Lead, name="Ava Oneil", email="oneil.844@randtelekom.com.tr",
                       last_contacted_at=datetime(2030, 1, 1, tzinfo=UTC), status="qualified")
    store.new(Lead, name="Bob Simple", email="example@example.com")
    store.new(Lead, name="John Doe", email="john.doe@example.com")
    return Ids(reporter=store.new(Lead, name="Bug Reporter", email="new@thunderbird.bug").id,
               hasen=hasen.id, deal=deal.id, one_co=one_co.id,
               heinz=store.new(Contact, customer_id=hasen.id, name="Heinz Müller", email="mueller@example.com").id,
               megan=store.new(Contact, customer_id=one_co.id, name="Megan One", email="xxx@gmail.com").id,
               megan_lead=store.new(Lead, name="Megan One", company="One", email="xxx@gmail.com").id,
               future=future.id)


@pytest.fixture
def ids(folder: Path) -> Ids:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(CONFIG, encoding="utf-8")
    with Store(folder) as store:
        return fill(store)


@pytest.fixture
def opened(folder: Path, ids: Ids) -> Iterator[Store]:
    with Store(folder) as store:
        yield store


def run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, list[str], str]:
    status = main(["import", "eml", "--data", str(folder), *args])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


def emails(folder: Path) -> dict[str, Activity]:
    with Store(folder) as store:
        return {a.external_id: a for a in store.all(Activity) if a.kind == "email"}


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != ".lock"}


def test_a_folder_of_real_messages_is_logged_matched_or_listed(
        folder: Path, ids: Ids, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, folder, str(EML))
    assert status == 0 and err == ""
    assert out[-1] == "13 logged, 0 already logged, 3 unmatched, 3 unreadable"
    assert len(out) == 13 + 3 + 3 + 1  # one line an item, and the summary
    assert [line.split(": ")[0] for line in out[:-1]] == ["logged"] * 13 + ["unmatched"] * 3 + ["unreadable"] * 3
    assert f"unreadable: {EML}/SOURCES.md: not an e-mail message (no From, To, Date or Subject header)" in out
    assert (f'unmatched: {EML}/flanker-from-encoding.eml: from "Ingo Lütkebohle" <ingo@blank.pages.de>: '
            '"Re: running server as root (Was: Re: PUT method)"') in out
    assert f"unreadable: {EML}/flanker-small-png.eml: not an e-mail message " \
           "(no From, To, Date or Subject header)" in out
    assert any(line.startswith(f"unreadable: {EML}/flanker-multipart.eml: no Date header") for line in out)
    assert "Traceback" not in "\n".join(out)
    assert len(emails(folder)) == 13


def test_each_activity_carries_the_message_and_its_links(folder: Path, ids: Ids,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, folder, str(EML / "thunderbird-sample02.eml"), str(EML / "thunderbird-sample01.eml"))
    logged = emails(folder)
    outlook = logged["<02.eml@mime.sample>"]
    assert (outlook.kind, outlook.owner) == ("email", "alice")
    assert outlook.subject == "Test message from Microsoft Outlook 00"
    assert outlook.body == "Die Hasen und die Frösche"
    assert outlook.at == datetime(2000, 5, 17, 23, 32, 47, tzinfo=UTC)
    assert (outlook.contact_id, outlook.customer_id, outlook.opportunity_id) == (ids.heinz, ids.hasen, ids.deal)
    greek = logged["<01.eml@mime.sample>"]
    assert (greek.lead_id, greek.customer_id, greek.subject) == (ids.reporter, None, "αλφάβητο")


def test_the_report_says_which_match_was_linked_and_which_deal(folder: Path, ids: Ids,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, folder, str(EML / "talon-gmail.eml"), str(EML / "thunderbird-sample07.eml"))
    assert out[0] == (f'logged: {EML}/talon-gmail.eml: "Re: Test" (2012-04-02 16:21 UTC) on contact Megan One '
                      "(One Co); also matches lead Megan One (One) (the contact is linked: contact > lead > customer)")
    assert out[1] == (f'logged: {EML}/thunderbird-sample07.eml: "Default content-types" (2000-05-19 04:29 UTC) '
                      'on contact Heinz Müller (Hasen GmbH), deal "Frösche order"')
    assert emails(folder)["<CAKsfaBW4hj0Gek6TwbR3erng4P1y0CZzJ0d=pXtCNnYnbe7PLg@mail.gmail.com>"].opportunity_id is None


def test_importing_again_logs_nothing_twice(folder: Path, ids: Ids, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, folder, str(EML))
    before = emails(folder)
    status, out, _ = run(capsys, folder, str(EML))
    assert status == 0 and out[-1] == "0 logged, 13 already logged, 3 unmatched, 3 unreadable"
    assert f'already logged: {EML}/thunderbird-sample01.eml: "αλφάβητο" (<01.eml@mime.sample>)' in out
    assert emails(folder).keys() == before.keys()


def test_a_message_without_a_message_id_is_also_logged_once(folder: Path, ids: Ids,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    one = str(EML / "flanker-relative.eml")
    assert run(capsys, folder, one, one)[1][-1] == "1 logged, 1 already logged, 0 unmatched, 0 unreadable"
    assert run(capsys, folder, one)[1][-1] == "0 logged, 1 already logged, 0 unmatched, 0 unreadable"


def test_last_contact_moves_forward_only(folder: Path, ids: Ids, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, folder, str(EML))
    with Store(folder) as store:
        reporter = store.require(Lead, ids.reporter)  # three messages: 2001, 2021 and 2024
        assert reporter.last_contacted_at == datetime(2024, 9, 23, 14, 16, 47, tzinfo=UTC)
        assert reporter.status == "contacted"
        assert store.require(Customer, ids.hasen).last_contact_at == datetime(2000, 5, 19, 4, 31, tzinfo=UTC)
        assert store.require(Customer, ids.one_co).last_contact_at == datetime(2012, 4, 3, 12, 23, 59, tzinfo=UTC)
        future = store.require(Lead, ids.future)  # contacted in 2030: a 2016 e-mail leaves it
        assert (future.last_contacted_at, future.status) == (datetime(2030, 1, 1, tzinfo=UTC), "qualified")
        megan_lead = store.require(Lead, ids.megan_lead)  # its contact was linked, not the lead
        assert megan_lead.last_contacted_at is None


def test_a_dry_run_writes_nothing(folder: Path, ids: Ids, capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_bytes(folder)
    status, out, _ = run(capsys, folder, str(EML), "--dry-run")
    assert status == 0
    assert out[-1] == "dry run, nothing written: 13 would be logged, 0 already logged, 3 unmatched, 3 unreadable"
    assert sum(line.startswith("would log: ") for line in out) == 13
    assert folder_bytes(folder) == before


def test_a_maildir_is_imported_with_a_file_of_the_same_message_once(
        tmp_path: Path, folder: Path, ids: Ids, capsys: pytest.CaptureFixture[str]) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for name in ("thunderbird-sample01.eml", "talon-yahoo.eml", "flanker-8bitmime.eml"):
        box.add((EML / name).read_bytes())
    read = mailbox.MaildirMessage((EML / "thunderbird-sample04.eml").read_bytes())
    read.set_subdir("cur")
    read.add_flag("S")
    box.add(read)
    status, out, _ = run(capsys, folder, str(tmp_path / "Maildir"), str(EML / "thunderbird-sample01.eml"))
    assert status == 0 and out[-1] == "3 logged, 1 already logged, 1 unmatched, 0 unreadable"
    assert any(line.startswith("logged: ") and "/cur/" in line and '"Алфавит"' in line for line in out)
    assert emails(folder)["<1333374330.68772.YahooMailNeo@web114411.mail.gq1.yahoo.com>"].customer_id is not None


def test_a_missing_path_is_refused_before_anything_is_written(folder: Path, ids: Ids,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_bytes(folder)
    status, out, err = run(capsys, folder, str(EML / "thunderbird-sample01.eml"), str(EML / "nothing-here.eml"))
    assert status == 1 and out == []
    assert err == f"dealdeck: no such file or folder: {EML / 'nothing-here.eml'}\n"
    assert folder_bytes(folder) == before


def test_the_activities_belong_to_the_rep_given_with_as(folder: Path, ids: Ids,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, folder, "--as", "bob", str(EML / "talon-yahoo.eml"))
    assert [a.owner for a in emails(folder).values()] == ["bob"]


def test_data_from_a_message_is_shown_as_plain_text(tmp_path: Path, folder: Path, ids: Ids,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = re.sub(rb"(?m)^Subject: .*$", b"Subject: [@click=app.quit]x[/] \x1b[31mred",
                  (EML / "talon-gmail.eml").read_bytes())
    (tmp_path / "odd.eml").write_bytes(data)
    _, out, _ = run(capsys, folder, str(tmp_path / "odd.eml"))
    assert '"[@click=app.quit]x[/] red"' in out[0] and "\x1b" not in "".join(out)


def test_all_writes_are_one_commit(tmp_path: Path, opened: Store) -> None:
    shutil.copy(EML / "thunderbird-sample02.eml", tmp_path / "a.eml")
    shutil.copy(EML / "talon-gmail.eml", tmp_path / "b.eml")
    version = opened.version
    report = import_mail(opened, [tmp_path])
    assert len(report.logged) == 2 and opened.version == version + 1  # activities and contact dates together


def maildir_with_two_read_messages(root: Path) -> Path:
    """A Maildir as a mail program leaves it: read messages in cur/, named ``<time>.<id>.<host>:2,S``."""
    box = mailbox.Maildir(root, create=True)
    for name in ("talon-gmail.eml", "thunderbird-sample02.eml"):
        message = mailbox.MaildirMessage((EML / name).read_bytes())
        message.set_subdir("cur")
        message.add_flag("S")
        box.add(message)
    (root / "dovecot-uidlist").write_text("3 V1733500000 N3\n")
    return root


@pytest.mark.parametrize("given", ["cur", "cur/"])
def test_a_maildirs_cur_folder_given_on_its_own_is_read_whole(
        tmp_path: Path, folder: Path, ids: Ids, capsys: pytest.CaptureFixture[str], given: str) -> None:
    maildir = maildir_with_two_read_messages(tmp_path / "Maildir")
    assert all(":2,S" in p.name and p.suffix != ".eml" for p in (maildir / "cur").iterdir())
    status, out, err = run(capsys, folder, str(maildir / given))
    assert (status, err) == (0, "")
    assert out[-1] == "2 logged, 0 already logged, 0 unmatched, 0 unreadable"
    assert all(line.startswith(f"logged: {maildir / 'cur'}/") and ":2,S: " in line for line in out[:-1])
    status, out, _ = run(capsys, folder, str(maildir))  # the Maildir itself: the same messages
    assert (status, out[-1]) == (0, "0 logged, 2 already logged, 0 unmatched, 0 unreadable")


@pytest.mark.parametrize("make", ["empty", "hidden only", "empty maildir"])
def test_a_folder_with_nothing_to_read_is_one_line(tmp_path: Path, folder: Path, ids: Ids,
                                                   capsys: pytest.CaptureFixture[str], make: str) -> None:
    given = tmp_path / "mail"
    if make == "empty maildir":
        mailbox.Maildir(given, create=True)
    else:
        given.mkdir()
        if make == "hidden only":
            shutil.copy(EML / "talon-gmail.eml", given / ".talon-gmail.eml")
    before = folder_bytes(folder)
    status, out, err = run(capsys, folder, str(given))
    assert (status, out, err) == (1, [], f"dealdeck: no messages in {given}\n")
    assert folder_bytes(folder) == before


def test_an_empty_folder_beside_messages_is_no_refusal(tmp_path: Path, folder: Path, ids: Ids,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    maildir = maildir_with_two_read_messages(tmp_path / "Maildir")
    status, out, _ = run(capsys, folder, str(maildir / "cur"), str(maildir / "new"))  # new/ is empty
    assert (status, out[-1]) == (0, "2 logged, 0 already logged, 0 unmatched, 0 unreadable")


def test_a_photo_is_refused_in_one_line(tmp_path: Path, folder: Path, ids: Ids,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "photo.png"
    shutil.copy(EML / "flanker-small-png.eml", photo)  # a real PNG
    before = folder_bytes(folder)
    for args in ([str(photo)], [str(photo), "--dry-run"]):
        status, out, err = run(capsys, folder, *args)
        assert (status, out) == (1, [])
        assert err == f"dealdeck: {photo}: not an e-mail message (no From, To, Date or Subject header)\n"
    assert folder_bytes(folder) == before


def test_a_folder_of_files_none_a_message_is_refused_in_one_line(tmp_path: Path, folder: Path, ids: Ids,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(EML / "flanker-small-png.eml", inbox / "a.png")
    shutil.copy(EML / "flanker-multipart.eml", inbox / "b.eml")  # a message without a Date
    status, out, err = run(capsys, folder, str(inbox))
    assert (status, out) == (1, [])
    assert err == (f"dealdeck: none of the 2 files is a message that can be logged; the first: {inbox}/a.png: "
                   "not an e-mail message (no From, To, Date or Subject header)\n")
