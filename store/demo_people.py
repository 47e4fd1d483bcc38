"""The demo's people and companies, and its seeded random draws (names, e-mails, phones,
addresses, times before today)."""

from __future__ import annotations

import os
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from store.demo_data import (
    CN_CITIES,
    CN_CORES,
    CN_GIVEN,
    CN_ROADS,
    CN_SURNAMES,
    EN_CITIES,
    EN_FIRST,
    EN_LAST,
    EN_PREFIXES,
    EN_QUALIFIERS,
    EN_STREETS,
    EN_SUFFIXES,
    INDUSTRIES,
    SEGMENTS,
    TITLES,
    Culture,
    Industry,
    Locale,
    Weights,
)
from store.leads import normalise_phone

T = TypeVar("T")


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str
    segment: str
    size: int
    culture: Culture
    locale: Locale
    city: str


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None
    phone: str | None
    title: str


#: uuid4 bits: version 4 in bits 76-79, variant 0b10 in bits 62-63
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


class Draw:
    """Random choices from one seeded generator, and times relative to ``today``."""

    def __init__(self, rng: random.Random, today: date, weeks: int, ids: random.Random | None = None) -> None:
        self.rng = rng
        #: ids come from their own generator, seeded per folder: the content stays reproducible
        self.ids = ids or random.Random(int.from_bytes(os.urandom(16)))
        self.today = today
        #: every timestamp lies before the start of ``today`` (UTC), so in the past
        self.horizon = datetime.combine(today, time(), UTC)
        self.start = self.horizon - timedelta(weeks=weeks)

    def uid(self) -> str:
        """A uuid4 hex from the seeded generator: ``uuid.UUID(int=bits, version=4).hex``, faster."""
        return f"{self.ids.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET:032x}"

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def weighted(self, weights: Weights[T]) -> T:
        return self.rng.choices(weights.options, cum_weights=weights.cumulative)[0]

    def moment(self, lo: datetime, hi: datetime | None = None) -> datetime:
        """A minute in [lo, hi) (hi defaults to the horizon); lo if the span is empty, but
        never at or past the horizon."""
        span = int(((hi or self.horizon) - lo).total_seconds() // 60)
        if span > 0:
            return lo + timedelta(minutes=self.rng.randrange(span))
        return min(lo, self.horizon - timedelta(minutes=1))

    def moments(self, lo: datetime, hi: datetime, count: int) -> list[datetime]:
        """``count`` distinct sorted times in (lo, hi): whole minutes, or evenly spaced if short."""
        span = int((hi - lo).total_seconds() // 60)
        if span <= count:
            return [lo + (hi - lo) * (i + 1) / (count + 1) for i in range(count)]
        return [lo + timedelta(minutes=m) for m in sorted(self.rng.sample(range(1, span), count))]

    def within(self, lo: datetime, days: float) -> datetime:
        """A moment up to ``days`` after ``lo``, before the horizon."""
        return self.moment(lo, min(lo + timedelta(days=days), self.horizon))

    def day(self, lo: int, hi: int) -> date:
        """A date ``lo`` to ``hi`` days from today."""
        return self.today + timedelta(days=self.rng.randint(lo, hi))

    def at_day(self, day: date, hour: int = 9) -> datetime:
        return datetime.combine(day, time(hour), UTC)


# --- people and companies ---------------------------------------------------------------------------


def ascii_of(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text).lower() if ch.isascii() and ch.isalnum())


class People:
    """Names, companies, emails and phones; emails, phones and names-at-a-company stay unique."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.people: set[tuple[str, str]] = set()

    def company_pools(self, lead_count: int) -> dict[Culture, list[Company]]:
        """Companies the leads work at; several leads may share one (a repeat customer)."""
        size = max(12, int(lead_count * 0.35))
        cn = [(city, core, ind) for city in CN_CITIES for core in CN_CORES for ind in INDUSTRIES]
        en = [(prefix, q, ind) for prefix in EN_PREFIXES for q in EN_QUALIFIERS for ind in INDUSTRIES]
        sample = self.draw.rng.sample
        return {"cn": [self._cn_company(*cn[i]) for i in sample(range(len(cn)), min(size, len(cn)))],
                "en": [self._en_company(*en[i]) for i in sample(range(len(en)), min(size, len(en)))]}

    def _cn_company(self, city: str, core: tuple[str, str], industry: Industry) -> Company:
        segment, size = self.draw.weighted(SEGMENTS)
        return Company(f"{city}{core[0]}{industry[2]}有限公司", f"{core[1]}{industry[3]}.com.cn",
                        industry[0], segment, size, "cn", "cn", city)

    def _en_company(self, prefix: str, qualifier: str, industry: Industry) -> Company:
        locale: Locale = "us" if self.draw.chance(0.5) else "eu"
        words = " ".join(part for part in (prefix, qualifier, industry[1]) if part)
        segment, size = self.draw.weighted(SEGMENTS)
        tld = ".com" if locale == "us" else self.draw.pick((".co.uk", ".de", ".eu"))
        return Company(f"{words} {self.draw.pick(EN_SUFFIXES[locale])}", ascii_of(words) + tld,
                        industry[0], segment, size, "en", locale, self.draw.pick(EN_CITIES[locale]))

    def person(self, company: Company, *, email: bool = True, phone: bool = True) -> Person:
        for _ in range(20):
            name, local = self._name(company.culture)
            if (company.name, name) not in self.people:
                break
        self.people.add((company.name, name))
        return Person(name, self._email(local, company.domain) if email else None,
                       self.phone(company.locale) if phone else None, self.draw.pick(TITLES[company.culture]))

    def _name(self, culture: Culture) -> tuple[str, str]:
        """A display name and the email local part made from it."""
        if culture == "cn":
            surname, given = self.draw.pick(CN_SURNAMES), self.draw.pick(CN_GIVEN)
            return surname[0] + given[0], f"{surname[1]}.{given[1]}"
        first, last = self.draw.pick(EN_FIRST), self.draw.pick(EN_LAST)
        return f"{first} {last}", f"{ascii_of(first)}.{ascii_of(last)}"

    def _email(self, local: str, domain: str) -> str:
        address, n = f"{local}@{domain}", 1
        while address in self.emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self.emails.add(address)
        return address

    def phone(self, locale: Locale) -> str:
        while True:
            number = self._phone_number(locale)
            key = normalise_phone(number)
            if key not in self.phones:
                self.phones.add(key)
                return number

    def _phone_number(self, locale: Locale) -> str:
        r = self.draw.rng
        if locale == "cn":
            return (f"+86 1{r.choice('356789')}{r.randrange(10)} "
                    f"{r.randrange(10_000):04d} {r.randrange(10_000):04d}")
        if locale == "us":
            return f"+1 ({r.randrange(201, 990)}) {r.randrange(200, 1000)}-{r.randrange(10_000):04d}"
        if r.random() < 0.5:
            return f"+44 20 {r.randrange(3000, 9000)} {r.randrange(10_000):04d}"
        return f"+49 {r.choice(('30', '40', '89'))} {r.randrange(1_000_000, 10_000_000)}"

    def address(self, company: Company) -> str:
        r = self.draw.rng
        if company.culture == "cn":
            return f"{company.city}市{self.draw.pick(CN_ROADS)}{r.randrange(1, 999)}号"
        return f"{r.randrange(1, 400)} {self.draw.pick(EN_STREETS)}, {company.city}"

