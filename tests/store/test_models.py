from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from store.config import Config
from store.models import (
    Activity,
    Contact,
    Customer,
    Lead,
    Opportunity,
    Quote,
    QuoteLine,
    Survey,
    Task,
    Ticket,
    new_id,
)
from store.records import field_errors

CONFIG = Config()


def errors_of(cls: type, **data: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as failed:
        cls.model_validate(data, context={"config": CONFIG})
    return field_errors(failed.value)


def test_ids_are_uuid4_hex_and_every_record_has_owner_and_times() -> None:
    lead = Lead(name="Ada", owner="me")
    assert len(lead.id) == 32 and int(lead.id, 16) >= 0
    assert lead.created_at.tzinfo is not None and lead.updated_at >= lead.created_at
    assert "owner" in errors_of(Lead, name="Ada")
    assert "id" in errors_of(Lead, name="Ada", owner="me", id="not-an-id")


@pytest.mark.parametrize("email", ["bad", "a@b", "a b@c.com", "@x.com"])
def test_bad_emails_are_refused_with_a_readable_message(email: str) -> None:
    assert "valid email" in errors_of(Lead, name="Ada", owner="me", email=email)["email"]


@pytest.mark.parametrize("phone", ["12", "call me", "+1 555 0100 0100 0100 99"])
def test_bad_phones_are_refused(phone: str) -> None:
    assert "phone" in errors_of(Lead, name="Ada", owner="me", phone=phone)


@pytest.mark.parametrize("phone", ["+86 138 0013 8000", "(555) 010-0199", "020-8888 6666 ext 12"])
def test_real_phones_are_accepted(phone: str) -> None:
    assert Lead(name="Ada", owner="me", phone=phone).phone == phone


def test_required_fields_and_grades() -> None:
    assert "name" in errors_of(Lead, owner="me", name="   ")
    assert "grade" in errors_of(Lead, name="Ada", owner="me", grade="E")
    assert "score" in errors_of(Lead, name="Ada", owner="me", score=101)


def test_control_characters_and_ansi_are_stripped_from_text() -> None:
    lead = Lead(name="\x1b[31mAda\x1b[0m\x07 Lovelace", owner="me", notes="line one\nline two\x00")
    assert lead.name == "Ada Lovelace"
    assert lead.notes == "line one\nline two"


def test_markup_is_kept_literally_as_data() -> None:
    assert Lead(name="[@click=app.quit]x[/]", owner="me").name == "[@click=app.quit]x[/]"


def test_tags_are_deduplicated_case_insensitively() -> None:
    assert Lead(name="Ada", owner="me", tags=["VIP", "vip", "expo"]).tags == ["vip", "expo"]


def test_amounts_are_non_negative_with_a_currency_and_stages_come_from_the_config() -> None:
    base = {"title": "Deal", "customer_id": new_id(), "owner": "me", "stage": "initial"}
    assert "amount" in errors_of(Opportunity, **base, amount="-1")
    assert "currency" in errors_of(Opportunity, **base, currency="dollars")
    assert "stage" in errors_of(Opportunity, **{**base, "stage": "maybe"})
    assert "lost_reason" in errors_of(Opportunity, **{**base, "stage": "lost"})
    ok = Opportunity.model_validate({**base, "amount": "1200.5", "currency": "eur"},
                                    context={"config": CONFIG})
    assert ok.amount == Decimal("1200.5") and ok.currency == "EUR"


def test_quote_totals_apply_discounts() -> None:
    quote = Quote(version=1, by="me", currency="USD", lines=[
        QuoteLine(product="Licence", quantity=Decimal(3), unit_price=Decimal("100"), discount_pct=Decimal(10)),
        QuoteLine(product="Setup", quantity=Decimal(1), unit_price=Decimal("50.50")),
    ])
    assert quote.total == Decimal("320.50")
    with pytest.raises(ValidationError):
        QuoteLine(product="x", quantity=Decimal(0), unit_price=Decimal(1))


def test_dates_are_parsed_and_checked() -> None:
    task = Task(title="Call back", owner="me", due="2026-12-01")
    assert task.due == date(2026, 12, 1)
    assert "due" in errors_of(Task, title="Call back", owner="me", due="31/12/2026")
    assert Contact(name="Li", owner="me", customer_id=new_id(), birthday="1990-02-03").birthday


def test_activities_must_be_linked() -> None:
    assert "record" in errors_of(Activity, owner="me", kind="call")
    assert Activity(owner="me", kind="visit", customer_id=new_id()).kind == "visit"


def test_survey_scores_follow_their_kind() -> None:
    assert "score" in errors_of(Survey, owner="me", customer_id=new_id(), kind="csat", score=0)
    assert "score" in errors_of(Survey, owner="me", customer_id=new_id(), kind="nps", score=11)
    assert Survey(owner="me", customer_id=new_id(), kind="nps", score=0).score == 0


def test_tickets_and_customers_have_their_lifecycles() -> None:
    assert "status" in errors_of(Ticket, owner="me", customer_id=new_id(), title="x", status="done")
    assert "lifecycle" in errors_of(Customer, owner="me", name="Acme", lifecycle="happy")


def test_disqualified_leads_need_a_reason() -> None:
    assert "disqualified_reason" in errors_of(Lead, name="Ada", owner="me", status="disqualified")


def test_lower_casing_never_takes_a_value_past_its_limit() -> None:
    """"İ" lower-cases to two characters: a stored value must pass its model again."""
    lead = Lead(owner="ann", name="Ada", tags=["İ" * 40, "Hot", "hot"], email="ada@example.com")
    assert lead.tags == ["İ" * 40, "hot"]
    assert Lead.model_validate(lead.model_dump()).tags == lead.tags
    with pytest.raises(ValidationError, match="email"):
        Lead(owner="ann", name="Ada", email="İ" * 125 + "@example.com")  # 137 characters, 262 lower-cased
