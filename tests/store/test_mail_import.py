"""Reading real e-mails (tests/data/eml, see SOURCES.md) and matching them to records."""

from __future__ import annotations

import mailbox
import re
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from store.errors import StoreError
from store.mail_import import (
    BODY_MAX,
    NO_ID_PREFIX,
    NOT_A_MESSAGE,
    AddressBook,
    MailError,
    MailMessage,
    Unreadable,
    check_paths,
    parse_message,
    read_messages,
)
from store.mail_text import html_to_text, reply_text

EML = Path(__file__).resolve().parents[1] / "data" / "eml"


def parse(name: str) -> MailMessage:
    return parse_message((EML / name).read_bytes(), name)


# -- headers ---------------------------------------------------------------------------


def test_a_base64_utf8_subject_and_body_are_decoded() -> None:
    message = parse("thunderbird-sample01.eml")
    assert message.subject == "αλφάβητο"
    assert message.body == "Άλφα"
    assert message.message_id == "<01.eml@mime.sample>"
    assert message.sender == "Bug Reporter <new@thunderbird.bug>"


def test_the_date_is_converted_to_utc() -> None:
    assert parse("thunderbird-sample01.eml").at == datetime(2021, 5, 27, 20, 23, 35, tzinfo=UTC)  # +0100
    assert parse("thunderbird-sample02.eml").at == datetime(2000, 5, 17, 23, 32, 47, tzinfo=UTC)  # -0400


def test_a_quoted_printable_iso_8859_1_subject_is_decoded() -> None:
    assert parse("eudora-html-002.eml").subject == "Die Hasen und die Frösche"


def test_an_encoded_display_name_with_a_comma_and_cc_addresses() -> None:
    message = parse("mail-parser-mail_test_18.eml")
    assert message.sender == '"LastßlName, FirstName" <comma.name@example.com>'
    assert message.addresses == ("comma.name@example.com", "tony.stark@example.com",
                                 "simple@example.net", "john.doe@example.com")


def test_addresses_are_lower_cased_in_from_to_cc_order() -> None:
    assert parse("mail-parser-mail_test_3.eml").addresses == ("oneil.844@randtelekom.com.tr", "kalinokyra@thismail.it")
    assert parse("thunderbird-utf8MailboxStrings.eml").addresses == ("k.hoerst@invalid", "new@thunderbird.bug")


def test_an_undeclared_8bit_byte_in_a_header_is_read_as_latin_text() -> None:
    assert parse("flanker-from-encoding.eml").sender == '"Ingo Lütkebohle" <ingo@blank.pages.de>'


def test_a_subject_split_over_an_encoded_newline_is_one_line() -> None:
    assert parse("thunderbird-sample04.eml").subject == "Алфавит"


# -- bodies --------------------------------------------------------------------------------


def test_a_koi8_r_body_is_decoded() -> None:
    assert parse("thunderbird-sample04.eml").body == "Вопрос"


def test_an_iso_8859_1_body_is_kept_and_the_attachments_are_not() -> None:
    message = parse("thunderbird-sample02.eml")
    assert message.body == "Die Hasen und die Frösche"


def test_multipart_alternative_takes_the_plain_part() -> None:
    assert parse("thunderbird-sample07.eml").body == "Die Hasen"  # the part without a Content-Type
    assert parse("flanker-8bitmime.eml").body == "Превел\n\n123"


def test_an_html_only_body_becomes_text() -> None:
    assert parse("thunderbird-sample08.eml").body == "Example body\n\nwith embedded image."
    body = parse("eudora-html-002.eml").body
    assert body.startswith("Die Hasen und die Frösche\n\nDie Hasen klagten einst über ihre mißliche Lage; ")
    assert '"wir leben"' in body and "<" not in body and "&quot;" not in body


def test_the_quoted_reply_and_its_attribution_are_trimmed() -> None:
    assert parse("talon-gmail.eml").body == "Hello"
    assert parse("talon-thunderbird.eml").body == "Hello"  # written below the quote
    assert parse("talon-iphone.eml").body == "Hello\n\nSent from my iPhone"
    assert parse("talon-yahoo.eml").body == "Hello"  # ----- Original Message -----
    assert parse("flanker-from-encoding.eml").body.startswith("Isn't that the case for almost every other server")


def test_the_signature_is_trimmed() -> None:
    assert parse("flanker-relative.eml").body == "This is html and text message, thanks"


def test_html_quotes_and_signatures_are_trimmed_like_plain_ones() -> None:
    raw = (EML / "talon-gmail.eml").read_bytes().decode()
    html = raw.split('Content-Transfer-Encoding: 7bit\n\n')[2].split("\n--=====")[0]
    assert reply_text(html_to_text(html)) == "Hello"
    assert reply_text(html_to_text("thanks<br clear=all><div><br></div>-- <br>Regards,<br>Bob")) == "thanks"


def test_html_hides_styles_and_keeps_preformatted_lines() -> None:
    html = "<html><head><style>p {color: red}</style></head><body><p>a  b</p><pre>x\n  y</pre></body></html>"
    assert html_to_text(html).split("\n") == ["a b", "", "x", "  y"]


def test_a_long_body_is_capped_to_the_activity_limit() -> None:
    message = EmailMessage()
    message["From"], message["Date"], message["Subject"] = "a@example.com", "Mon, 2 Apr 2012 20:21:52 +0400", "long"
    message.set_content("word " * 10_000)
    body = parse_message(message.as_bytes(), "long.eml").body
    assert len(body) == BODY_MAX and body.endswith("…")


# -- what cannot be logged ----------------------------------------------------------------


def test_a_file_that_is_not_a_message_is_refused() -> None:
    with pytest.raises(MailError, match="not an e-mail message"):
        parse("flanker-small-png.eml")


def test_a_message_without_a_date_is_refused_not_dated_by_the_file() -> None:
    with pytest.raises(MailError, match="no Date header"):
        parse("flanker-multipart.eml")


def test_a_message_with_an_unparseable_date_is_refused() -> None:
    data = re.sub(rb"(?m)^Date: .*$", b"Date: sometime next week", (EML / "talon-gmail.eml").read_bytes())
    with pytest.raises(MailError, match="not a date: 'sometime next week'"):
        parse_message(data, "gmail.eml")


def test_a_message_without_a_message_id_gets_a_stable_stand_in() -> None:
    first, again = parse("flanker-relative.eml"), parse("flanker-relative.eml")
    assert first.message_id.startswith(NO_ID_PREFIX) and first.message_id == again.message_id
    assert parse("mail-parser-mail_test_18.eml").message_id != first.message_id


# -- folders ------------------------------------------------------------------------------


def test_a_folder_is_read_whole_in_name_order() -> None:
    items = list(read_messages([EML]))
    assert [Path(item.source).name for item in items] == sorted(p.name for p in EML.iterdir())
    assert {Path(item.source).name: item.reason for item in items if isinstance(item, Unreadable)} == {
        "SOURCES.md": NOT_A_MESSAGE, "flanker-small-png.eml": NOT_A_MESSAGE,
        "flanker-multipart.eml": "no Date header, so when it was sent is unknown (the file's time is not used)"}


def test_a_maildir_is_read_from_new_cur_and_its_subfolders(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Mail", create=True)
    box.add((EML / "thunderbird-sample01.eml").read_bytes())  # new/
    seen = mailbox.MaildirMessage((EML / "talon-gmail.eml").read_bytes())
    seen.set_subdir("cur")
    seen.add_flag("S")
    box.add(seen)
    box.add_folder("Sent").add((EML / "talon-yahoo.eml").read_bytes())
    items = list(read_messages([tmp_path / "Mail"]))
    assert sorted(item.subject for item in items if isinstance(item, MailMessage)) == ["Re: Test", "Re: Test",
                                                                                     "αλφάβητο"]
    sources = [item.source for item in items]
    assert any("/cur/" in s and s.endswith(":2,S") for s in sources)
    assert any("/new/" in s for s in sources) and any("/.Sent/new/" in s for s in sources)
    assert all(Path(s).is_file() for s in sources)  # each names the message's own file


def test_a_folder_is_read_whole_hidden_files_left_out_and_maildirs_inside_read_as_maildirs(tmp_path: Path) -> None:
    shutil.copy(EML / "talon-gmail.eml", tmp_path / "1733500000.M1P2.host:2,S")
    shutil.copy(EML / "talon-yahoo.eml", tmp_path / ".hidden.eml")
    (tmp_path / "older").mkdir()
    shutil.copy(EML / "thunderbird-sample01.eml", tmp_path / "older" / "msg")
    (tmp_path / ".git").mkdir()
    shutil.copy(EML / "thunderbird-sample02.eml", tmp_path / ".git" / "msg")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add((EML / "talon-iphone.eml").read_bytes())
    (tmp_path / "Maildir" / "dovecot-uidlist").write_text("3 V1733500000 N2\n")  # not a message: not tried
    items = list(read_messages([tmp_path]))
    assert [(Path(item.source).relative_to(tmp_path).parts[0], type(item).__name__) for item in items] == [
        ("1733500000.M1P2.host:2,S", "MailMessage"), ("Maildir", "MailMessage"), ("older", "MailMessage")]


def test_check_paths_refuses_only_when_nothing_at_all_is_there(tmp_path: Path) -> None:
    empty, hidden = tmp_path / "empty", tmp_path / "hidden"
    empty.mkdir()
    hidden.mkdir()
    (hidden / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    with pytest.raises(StoreError, match=f"^no messages in {empty}, {hidden}$"):
        check_paths([empty, hidden])
    check_paths([empty, EML / "talon-gmail.eml"])  # a file is something to read


def test_an_mbox_file_is_not_taken_for_one_message(tmp_path: Path) -> None:
    mbox = mailbox.mbox(tmp_path / "Inbox", create=True)
    for name in ("talon-gmail.eml", "talon-yahoo.eml"):
        mbox.add((EML / name).read_bytes())
    mbox.close()
    with pytest.raises(MailError, match="an mbox file, several messages in one"):
        parse_message((tmp_path / "Inbox").read_bytes(), "Inbox")
    assert parse_message(b"From a@example.com Mon Apr  2 20:21:52 2012\n" + (EML / "talon-gmail.eml").read_bytes(),
                         "one.eml").subject == "Re: Test"  # one message with its mbox From line is one


# -- matching -----------------------------------------------------------------------------


def book(**docs: list[dict[str, object]]) -> AddressBook:
    tables = {"leads": [], "customers": [], "contacts": [], "opportunities": []}
    tables.update(docs)
    return AddressBook(**tables, ours=["Bob@Example.com"], open_stages=["initial", "quote"])  # type: ignore[arg-type]


CUSTOMER = {"id": "c" * 32, "name": "One Co", "email": "sales@one.example"}
CONTACT = {"id": "d" * 32, "name": "Megan One", "email": "xxx@gmail.com", "customer_id": "c" * 32}
LEAD = {"id": "e" * 32, "name": "Megan One", "company": "One", "email": "xxx@gmail.com"}


def test_a_contact_is_preferred_to_a_lead_and_links_its_customer() -> None:
    target = book(leads=[LEAD], customers=[CUSTOMER], contacts=[CONTACT]).target(parse("talon-gmail.eml").addresses)
    assert target is not None
    assert target.links() == {"lead_id": None, "contact_id": "d" * 32, "customer_id": "c" * 32, "opportunity_id": None}
    assert target.describe() == ("contact Megan One (One Co); also matches lead Megan One (One)"
                                 " (the contact is linked: contact > lead > customer)")


def test_a_lead_is_preferred_to_a_customer_across_addresses() -> None:
    customer = {**CUSTOMER, "email": "tony.stark@example.com"}
    lead = {**LEAD, "email": "john.doe@example.com"}  # in Cc, after the customer's To
    target = book(leads=[lead], customers=[customer]).target(parse("mail-parser-mail_test_18.eml").addresses)
    assert target is not None and target.chosen.kind == "lead" and target.passed_over == ("customer One Co",)


def test_addresses_match_without_case() -> None:
    lead = {**LEAD, "email": "oneil.844@randtelekom.com.tr"}
    assert book(leads=[lead]).target(parse("mail-parser-mail_test_3.eml").addresses) is not None


def test_our_own_reps_addresses_are_never_matched() -> None:
    lead = {**LEAD, "email": "bob@example.com"}  # a rep's address, also on a lead by mistake
    assert book(leads=[lead]).target(parse("flanker-8bitmime.eml").addresses) is None


def test_the_customers_only_open_deal_is_linked_and_two_are_not_guessed() -> None:
    deal = {"id": "f" * 32, "title": "Big order", "customer_id": "c" * 32, "stage": "quote"}
    won = {"id": "a" * 32, "title": "Old order", "customer_id": "c" * 32, "stage": "won"}
    addresses = parse("talon-gmail.eml").addresses
    one = book(customers=[CUSTOMER], contacts=[CONTACT], opportunities=[deal, won]).target(addresses)
    assert one is not None and one.links()["opportunity_id"] == "f" * 32
    assert one.describe() == 'contact Megan One (One Co), deal "Big order"'
    other = {**deal, "id": "b" * 32}
    two = book(customers=[CUSTOMER], contacts=[CONTACT], opportunities=[deal, other]).target(addresses)
    assert two is not None and two.links()["opportunity_id"] is None


def test_a_lead_links_no_deal() -> None:
    deal = {"id": "f" * 32, "title": "Big order", "customer_id": "c" * 32, "stage": "quote"}
    target = book(leads=[LEAD], opportunities=[deal]).target(parse("talon-gmail.eml").addresses)
    assert target is not None and target.links()["opportunity_id"] is None and target.links()["customer_id"] is None
