"""vCard import and export against real data folders and real files written by other
programs (tests/data/vcf, sources in SOURCES.md)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import vobject

from store.database import Store
from store.errors import StoreError
from store.models import Contact, Customer
from store.vcard_export import contacts_to_export
from store.vcard_import import VcfReport, import_vcf
from store.vcards import NameParts, read_cards, structured_name, write_cards

DATA = Path(__file__).resolve().parents[1] / "data" / "vcf"
EVOLUTION = DATA / "ezvcard-John_Doe_EVOLUTION.vcf"
GMAIL = DATA / "ezvcard-John_Doe_GMAIL.vcf"
GMAIL_LIST = DATA / "ezvcard-gmail-list.vcf"
OUTLOOK = DATA / "ezvcard-outlook-2007.vcf"
THUNDERBIRD = DATA / "ezvcard-thunderbird-MoreFunctionsForAddressBook-extension.vcf"
ANDROID = DATA / "ezvcard-John_Doe_ANDROID.vcf"
RFC6350 = DATA / "ezvcard-rfc6350-example.vcf"
IOS = DATA / "aosp-v30_ios_613_multiline.vcf"
JAPANESE_21 = DATA / "aosp-v21_japanese_2.vcf"
JAPANESE_40 = DATA / "aosp-v40_sort_as.vcf"
COMPLICATED = DATA / "aosp-v21_complicated.vcf"
VOBJECT_40 = DATA / "vobject-vcard40_full.vcf"
#: files with cards that have no ORG: those go to this customer
NO_ORG = {GMAIL_LIST, ANDROID, JAPANESE_21}
ALL = sorted(DATA.glob("*.vcf"))


@pytest.fixture
def team(folder: Path) -> Iterator[Store]:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(
        "me: alice\nreps:\n  - {id: alice, name: Alice Smith}\n"
        "segments:\n  - {name: Makers, industry: manufacturing}\n", encoding="utf-8")
    with Store(folder) as opened:
        yield opened


def contacts(store: Store) -> dict[str, Contact]:
    return {c.name: c for c in store.all(Contact)}


def customer_names(store: Store) -> set[str]:
    return {c.name for c in store.all(Customer)}


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != ".lock"}


def derived(tmp_path: Path, source: Path, old: bytes, new: bytes, name: str = "changed.vcf") -> Path:
    """A real file with one thing changed (a newer export, a broken value)."""
    data = source.read_bytes()
    assert old in data
    path = tmp_path / name
    path.write_bytes(data.replace(old, new, 1))
    return path


def load_all(store: Store) -> None:
    store.new(Customer, name="Walk-ins")
    for path in ALL:
        import_vcf(store, path, customer="Walk-ins" if path in NO_ORG else None)


# --- reading ------------------------------------------------------------------------------


def test_every_real_file_reads_without_photos(tmp_path: Path) -> None:
    counts = {path.name: len(read_cards(path)[0]) for path in ALL}
    assert counts[ANDROID.name] == 6 and counts[GMAIL_LIST.name] == 3 and sum(counts.values()) == 19
    for path in ALL:
        for card in read_cards(path)[0]:
            assert "/9j/" not in card.note  # the JPEG PHOTOs are never read into anything


def test_folded_lines_and_escaped_commas_come_back_whole() -> None:
    (card,), notes = read_cards(EVOLUTION)
    assert notes == []
    assert card.name == "Mr. John Richter, James Doe Sr."
    assert [e.value for e in card.emails] == ["john.doe@ibm.com"]  # folded in the middle of the address
    assert card.note.startswith('THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"')
    assert card.note.endswith("EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.")
    assert (card.org, card.departments) == ("IBM", ["Accounting", "Dungeon"])
    assert card.uid == "477343c8e6bf375a9bac1f96a5000837"


def test_an_unescaped_comma_in_a_google_export_keeps_the_whole_name() -> None:
    (card,), _ = read_cards(GMAIL)
    assert card.name == "Mr. John Richter, James Doe Sr."  # vobject's own decoding stops at the comma


def test_quoted_printable_names_of_an_android_phone() -> None:
    cards, _ = read_cards(ANDROID)
    assert [c.name for c in cards] == ["", "", "Ñ Ñ Ñ Ñ Ñ", "Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ", "Ñ Ñ Ñ Ñ", "ÑÑÑÑ"]
    assert cards[3].note.count("\n") == 1 and cards[3].note.startswith("Ñ Ñ Ñ")  # two soft-broken NOTEs
    assert cards[5].org == "Ñ" * 44  # the first ORG; the second has a stray byte and is not read
    assert cards[5].problem == ""


def test_shift_jis_feature_phone_card() -> None:
    (card,), notes = read_cards(JAPANESE_21)
    assert notes == [f"note: {JAPANESE_21} is not UTF-8; it was read as SHIFT_JIS"]
    assert card.name == "安藤 ロイド 1" and card.note == "メモ"
    assert card.addresses[0].value == "東京都渋谷区桜丘町26-1セルリアンタワー6階, 150-8512"


def test_outlook_quoted_printable_note_with_soft_line_breaks() -> None:
    (card,), _ = read_cards(OUTLOOK)
    assert card.note.splitlines()[1:] == ["I assume it encodes this text inside a NOTE vCard type.",
                                          "But I'm not sure because there's text formatting going on here.",
                                          "It does not preserve the formatting"]
    assert (card.title, card.role) == ("TheJobTitle", "TheProfession")


@pytest.mark.parametrize("text", [b"", b"name,email\nAda,ada@example.com\n", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_a_file_without_vcards_is_one_line(tmp_path: Path, text: bytes) -> None:
    path = tmp_path / "not.vcf"
    path.write_bytes(text)
    with pytest.raises(StoreError, match="holds no vCard"):
        read_cards(path)


def test_text_outside_the_cards_is_noted(tmp_path: Path) -> None:
    glued = tmp_path / "glued.vcf"
    glued.write_bytes(GMAIL_LIST.read_bytes() * 2)  # the file does not end with a line break
    cards, notes = read_cards(glued)
    assert len(cards) == 5
    assert notes == [f"note: {glued} line 19: 4 lines outside BEGIN:VCARD ... END:VCARD left out"]


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such file"):
        read_cards(tmp_path / "gone.vcf")
    with pytest.raises(StoreError, match="is a folder"):
        read_cards(tmp_path)


# --- import --------------------------------------------------------------------------------


def test_evolution_card_becomes_a_contact_of_a_new_customer(team: Store) -> None:
    report = import_vcf(team, EVOLUTION)
    assert (report.added, report.created) == (1, ["IBM"])
    assert report.summary() == f"imported {EVOLUTION}: 1 card: 1 added, 0 updated, 0 unchanged, 0 skipped; " \
                               "created 1 customer: IBM"
    contact = team.all(Contact)[0]
    assert (contact.role, contact.email, contact.phone) == ("Money Counter", "john.doe@ibm.com", "905-555-1234")
    assert (contact.birthday, contact.owner) == (date(1980, 3, 22), "alice")
    assert contact.external_id == "477343c8e6bf375a9bac1f96a5000837"
    assert team.require(Customer, contact.customer_id).name == "IBM"
    extra = contact.notes.splitlines()[-5:]  # the kept e-mail and phone with their kind, for export
    assert extra == ["Department: Accounting; Dungeon", "E-mail (work): john.doe@ibm.com",
                     "Phone (mobile): 905-666-1234", "Phone (work): 905-555-1234",
                     "Address (home): ASB-123, 15 Crescent moon drive, Albaney, New York, 12345, "
                     "United States of America"]


def test_preferred_email_and_phone_win_the_rest_go_to_notes(team: Store) -> None:
    import_vcf(team, VOBJECT_40)
    import_vcf(team, THUNDERBIRD)
    john, doe = contacts(team)["Dr. John Q. Public, III"], contacts(team)["John Doe"]
    assert (john.email, john.phone, john.role) == ("johnny@personal.example.org", "+1-555-555-5555", "CEO")
    assert {"Role: Executive", "E-mail (work): john.public@example.com",
            "Phone (mobile): +1-555-123-4567"} <= set(john.notes.splitlines())
    assert john.external_id == "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
    assert (doe.email, doe.phone, doe.birthday) == ("doe.john@hotmail.com", "555-555-1111", date(1970, 9, 21))
    assert sum(line.startswith("E-mail: additional-email") for line in doe.notes.splitlines()) == 4
    assert "Phone (fax): 555-555-3333" in doe.notes


def test_vcard_40_tel_uri_and_a_birthday_without_a_year(team: Store) -> None:
    import_vcf(team, RFC6350)
    simon = contacts(team)["Simon Perreault"]
    assert simon.phone == "+1-418-656-9254 ext. 102" and simon.birthday is None
    assert "Birthday: 02-03 (no year)" in simon.notes.splitlines()


def test_org_matches_existing_customers_like_the_csv_import(team: Store) -> None:
    ibm = team.new(Customer, name="IBM Inc.")
    company = team.new(Customer, name="THECOMPANY")
    assert import_vcf(team, EVOLUTION).created == []
    assert import_vcf(team, OUTLOOK).created == []
    assert {c.name: c.customer_id for c in team.all(Contact)} == {
        "Mr. John Richter, James Doe Sr.": ibm.id, "Mr. Michael Angstadt Jr.": company.id}


def test_two_customers_of_one_name_skip_the_card(team: Store) -> None:
    team.new(Customer, name="IBM Ltd")
    team.new(Customer, name="IBM Inc.")
    report = import_vcf(team, GMAIL)
    assert report.skipped == ["card 1 (Mr. John Richter, James Doe Sr.): skipped: ORG: 2 customers match 'IBM' "
                              "(IBM Ltd, IBM Inc.); rename one of them or use the exact name"]
    team.new(Customer, name="IBM")
    assert import_vcf(team, GMAIL).added == 1  # the exact name comes first


def test_cards_without_org_need_a_customer(team: Store) -> None:
    report = import_vcf(team, GMAIL_LIST)
    assert report.imported_nothing and team.count(Contact) == 0
    assert report.skipped[0] == ("card 1 (Arnold Smith): skipped: no ORG (company) on the card; "
                                 "give --customer NAME for such cards")
    walk_ins = team.new(Customer, name="Walk-ins")
    assert import_vcf(team, GMAIL_LIST, customer="walk-ins").added == 3
    assert {c.customer_id for c in team.all(Contact)} == {walk_ins.id}
    with pytest.raises(StoreError, match="no customer named 'Nobody'"):
        import_vcf(team, GMAIL_LIST, customer="Nobody")


def test_android_export_skips_what_cannot_be_a_contact(team: Store) -> None:
    report = import_vcf(team, ANDROID)
    assert report.skipped[:3] == [
        "card 1 (john.doe@company.com): skipped: no name (the card has neither FN nor N)",
        "card 2 (jane.doe@company.com): skipped: no name (the card has neither FN nor N)",
        "card 3 (Ñ Ñ Ñ Ñ Ñ): skipped: no ORG (company) on the card; give --customer NAME for such cards"]
    assert (report.added, len(report.skipped), report.created) == (2, 4, ["ÑÑÑÑÑÑÑÑÑÑÑÑ", "Ñ" * 44])


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_importing_the_same_file_again_changes_nothing(team: Store, path: Path) -> None:
    team.new(Customer, name="Walk-ins")
    customer = "Walk-ins" if path in NO_ORG else None
    first = import_vcf(team, path, customer=customer)
    assert first.added > 0
    before = folder_bytes(team.folder)
    again = import_vcf(team, path, customer=customer)
    assert (again.added, again.updated, again.unchanged, again.created) == (0, 0, first.added, [])
    assert folder_bytes(team.folder) == before


def test_a_newer_export_updates_only_what_changed(team: Store, tmp_path: Path) -> None:
    import_vcf(team, EVOLUTION)
    old = team.all(Contact)[0]
    newer = derived(tmp_path, EVOLUTION, b"TITLE:Money Counter", b"TITLE:Chief Money Counter")
    report = import_vcf(team, newer)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    new = team.require(Contact, old.id)
    assert new.role == "Chief Money Counter" and team.count(Contact) == 1
    assert new.model_dump(exclude={"role", "updated_at"}) == old.model_dump(exclude={"role", "updated_at"})


def test_a_card_without_uid_is_found_by_email_and_gets_no_copy(team: Store) -> None:
    import_vcf(team, GMAIL)
    team.update(Contact, team.all(Contact)[0].id, phone="+44 20 7946 0958")
    report = import_vcf(team, GMAIL)
    assert (report.added, report.updated) == (0, 1)
    assert team.all(Contact)[0].phone == "905-555-1234"


def test_the_same_person_twice_in_one_file(team: Store, tmp_path: Path) -> None:
    twice = tmp_path / "twice.vcf"
    twice.write_bytes(GMAIL_LIST.read_bytes() + b"\r\n" + GMAIL_LIST.read_bytes())
    team.new(Customer, name="Walk-ins")
    report = import_vcf(team, twice, customer="Walk-ins")
    assert report.added == 3 and report.skipped[0] == "card 4 (Arnold Smith): skipped: the same contact as card 1"


def test_a_bad_email_skips_that_card_only(team: Store, tmp_path: Path) -> None:
    bad = derived(tmp_path, GMAIL_LIST, b"EMAIL;TYPE=INTERNET:chrisy55d@yahoo.com", b"EMAIL;TYPE=INTERNET:chrisy55d@")
    team.new(Customer, name="Walk-ins")
    report = import_vcf(team, bad, customer="Walk-ins")
    assert report.added == 2
    assert report.skipped == ["card 2 (Chris Beatle): skipped: EMAIL 'chrisy55d@': not a valid email address "
                              "(expected name@example.com)"]


def test_a_bad_birthday_or_an_unreadable_line_skips_the_card(team: Store, tmp_path: Path) -> None:
    bday = derived(tmp_path, EVOLUTION, b"BDAY:1980-03-22", b"BDAY:1980-02-30", "bday.vcf")
    assert import_vcf(team, bday).skipped == ["card 1 (Mr. John Richter, James Doe Sr.): skipped: "
                                              "BDAY '1980-02-30': not a real date"]
    broken = derived(tmp_path, ANDROID, b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=91=C3=91=C3=91=C3=91\r",
                     b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=91=C3=91=C3\r", "broken.vcf")
    assert import_vcf(team, broken).skipped[-1] == ("card 6 (ÑÑÑÑ): skipped: line 74 cannot be read ('utf-8' codec "
                                                    "can't decode byte 0xc3 in position 4: unexpected end of data)")


def test_dry_run_writes_nothing(team: Store) -> None:
    before = folder_bytes(team.folder)
    report = import_vcf(team, THUNDERBIRD, dry_run=True)
    assert report.summary().startswith("dry run, nothing written:") and report.added == 1
    assert "would create 1 customer: TheOrganization" in report.summary()
    assert folder_bytes(team.folder) == before


def test_all_of_a_file_is_one_transaction(team: Store) -> None:
    version = team.version
    report = import_vcf(team, COMPLICATED)
    assert report.added == 1 and team.version == version + 1


# --- export ----------------------------------------------------------------------------------


def exported(store: Store, *, version: str = "3.0", **options: object) -> str:
    """What ``dealdeck export vcf`` writes: the contacts chosen, as cards."""
    out = io.StringIO(newline="")
    write_cards(out, contacts_to_export(store, **options), version)  # type: ignore[arg-type]
    return out.getvalue()


def test_export_reads_back_with_vobject(team: Store) -> None:
    import_vcf(team, EVOLUTION)
    import_vcf(team, JAPANESE_40)
    cards = list(vobject.readComponents(exported(team)))
    assert [c.fn.value for c in cards] == ["Mr. John Richter, James Doe Sr.", "安藤 ロイド"]  # IBM, グーグル
    john = cards[0]
    assert (john.org.value, john.title.value, john.email.value, john.bday.value) == (
        ["IBM"], "Money Counter", "john.doe@ibm.com", "1980-03-22")
    assert john.uid.value == "477343c8e6bf375a9bac1f96a5000837"
    assert cards[1].uid.value == f"dealdeck-{contacts(team)['安藤 ロイド'].id}"
    assert cards[1].org.value == ["グーグル"]
    assert john.note.value == contacts(team)["Mr. John Richter, James Doe Sr."].notes


def test_export_version_40(team: Store) -> None:
    import_vcf(team, EVOLUTION)
    text = exported(team, version="4.0")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n") and "BDAY:19800322\r\n" in text
    assert "INTERNET" not in text


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip_changes_nothing(team: Store, tmp_path: Path, version: str) -> None:
    load_all(team)
    path = tmp_path / "all.vcf"
    path.write_text(exported(team, version=version), encoding="utf-8", newline="")
    before = folder_bytes(team.folder)
    report = import_vcf(team, path)
    assert (report.added, report.updated, report.skipped) == (0, 0, [])
    assert report.unchanged == team.count(Contact) == report.cards
    assert folder_bytes(team.folder) == before
    assert exported(team, version=version) == path.read_bytes().decode("utf-8")  # UIDs stay the same


@pytest.mark.parametrize(("name", "parts"), [
    ("Mr. Michael Angstadt Jr.", NameParts("Angstadt", "Michael", "", ("Mr.",), ("Jr.",))),
    ("Dr. John Q. Public, III", NameParts("Public", "John", "Q.", ("Dr.",), ("III",))),
    ("Mr. John Richter, James Doe Sr.", NameParts("Doe", "John", "Richter, James", ("Mr.",), ("Sr.",))),
    ("Doe, John Q.", NameParts("Doe", "John", "Q.")),
    ("Doe Jr., Dr. John", NameParts("Doe", "John", "", ("Dr.",), ("Jr.",))),
    ("John Smith, Jr., PhD", NameParts("Smith", "John", "", (), ("Jr.", "PhD"))),
    ("Prof. Dr. Hans Müller", NameParts("Müller", "Hans", "", ("Prof.", "Dr."))),
    ("Ludwig van Beethoven", NameParts("van Beethoven", "Ludwig")),
    ("Juan de la Cruz", NameParts("de la Cruz", "Juan")),
    ("Van Morrison", NameParts("Morrison", "Van")),
    ("安藤 ロイド", NameParts("安藤", "ロイド")),
    ("王小明", NameParts("王小明")),
    ("Madonna", NameParts("Madonna")),
])
def test_structured_name_of_a_name_as_people_write_it(name: str, parts: NameParts) -> None:
    assert structured_name(name) == parts


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip_gives_every_card_a_sensible_n(team: Store, version: str) -> None:
    load_all(team)
    cards = vobject.readComponents(exported(team, version=version))
    n_of = {card.fn.value: card.n.serialize().strip() for card in cards}
    assert n_of == {
        "Mr. Michael Angstadt Jr.": "N:Angstadt;Michael;;Mr.;Jr.",  # as Outlook's card has it
        "Dr. John Q. Public, III": "N:Public;John;Q.;Dr.;III",  # the card: Public;John;Quinlan;Dr.;III
        "Mr. John Richter, James Doe Sr.": "N:Doe;John;Richter\\, James;Mr.;Sr.",  # as Evolution's and Gmail's
        "Joe Due": "N:Due;Joe;;;",  # the card's N (Gump;Forrest;...) is not the FN it shows
        "John Doe": "N:Doe;John;;;", "Bob Smith": "N:Smith;Bob;;;", "Simon Perreault": "N:Perreault;Simon;;;",
        "Arnold Smith": "N:Smith;Arnold;;;", "Chris Beatle": "N:Beatle;Chris;;;", "Doug White": "N:White;Doug;;;",
        "安藤 ロイド": "N:安藤;ロイド;;;", "安藤 ロイド 1": "N:安藤;ロイド 1;;;",
        "Ñ Ñ Ñ Ñ Ñ": "N:Ñ;Ñ;Ñ Ñ Ñ;;", "Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ": "N:Ñ;Ñ;Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ;;",
        "Ñ Ñ Ñ Ñ": "N:Ñ;Ñ;Ñ Ñ;;", "ÑÑÑÑ": "N:ÑÑÑÑ;;;;"}


_KINDS = {"email": {"home", "work"}, "tel": {"home", "work", "cell", "fax", "pager", "video", "text", "textphone"}}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_export_labels_the_email_and_phone_with_their_own_kind_only(team: Store, path: Path) -> None:
    team.new(Customer, name="Walk-ins")
    import_vcf(team, path, customer="Walk-ins" if path in NO_ORG else None)
    sources = {card.name: card for card in read_cards(path)[0]}
    for version in ("3.0", "4.0"):
        for card in vobject.readComponents(exported(team, version=version)):
            source = sources[card.fn.value]
            for prop, entries in (("email", source.emails), ("tel", source.phones)):
                for line in card.contents.get(prop, []):
                    entry = next(e for e in entries if e.value == line.value)
                    types = {t.lower() for value in line.params.get("TYPE", []) for t in value.split(",")}
                    kinds = {entry.label.casefold()} if entry.label else entry.types
                    assert types - {"internet"} == kinds & _KINDS[prop], (version, card.fn.value, line.value)


def test_a_preferred_home_email_is_not_labelled_work(team: Store) -> None:
    import_vcf(team, VOBJECT_40)
    text = exported(team, version="4.0")
    assert "EMAIL;TYPE=home:johnny@personal.example.org\r\n" in text
    assert "TEL:+1-555-555-5555\r\n" in text  # TYPE=voice: a phone, of no kind
    assert "work" not in "".join(line for line in text.split("\r\n") if line.startswith(("EMAIL", "TEL")))
    assert "EMAIL;TYPE=HOME,INTERNET:johnny@personal.example.org\r\n" in exported(team)


def test_an_apple_label_is_the_kind(team: Store, tmp_path: Path) -> None:
    labelled = derived(tmp_path, IOS, b"type=pref:bob@smithauto.com",
                       b"type=pref:bob@smithauto.com\r\nitem1.X-ABLabel:_$!<Work>!$_")
    import_vcf(team, labelled)
    assert "E-mail (Work): bob@smithauto.com" in contacts(team)["Bob Smith"].notes.splitlines()
    assert "EMAIL;TYPE=work:bob@smithauto.com\r\n" in exported(team, version="4.0")


def test_a_contact_entered_by_hand_is_exported_without_a_kind(team: Store) -> None:
    acme = team.new(Customer, name="Acme")
    team.new(Contact, customer_id=acme.id, name="Ana Li", email="ana@acme.example", phone="+1 555 0100")
    text = exported(team, version="4.0")
    assert "EMAIL:ana@acme.example\r\n" in text and "TEL:+1 555 0100\r\n" in text
    assert "EMAIL;TYPE=INTERNET:ana@acme.example\r\n" in exported(team)


def test_export_one_customer_or_a_segment(team: Store) -> None:
    import_vcf(team, EVOLUTION)
    import_vcf(team, OUTLOOK)
    ibm = next(c for c in team.all(Customer) if c.name == "IBM")
    team.update(Customer, ibm.id, industry="Manufacturing")
    assert exported(team, customer="ibm").count("BEGIN:VCARD") == 1
    assert "FN:Mr. John Richter" in exported(team, segment="makers", today=date(2026, 1, 5))
    assert "Angstadt" not in exported(team, segment="Makers", today=date(2026, 1, 5))
    assert exported(team).count("BEGIN:VCARD") == 2
    with pytest.raises(StoreError, match="no saved segment 'Buyers' \\(segments: Makers\\)"):
        exported(team, segment="Buyers")
    with pytest.raises(StoreError, match="no customer named 'Nobody'"):
        exported(team, customer="Nobody")


def test_report_counts_read_plainly() -> None:
    report = VcfReport("x.vcf", dry_run=True, cards=2, added=1, skipped=["card 2 (B): skipped: no ORG"])
    assert report.summary() == ("dry run, nothing written: x.vcf: 2 cards: 1 would be added, 0 would be updated, "
                                "0 unchanged, 1 would be skipped")
    assert not report.imported_nothing
