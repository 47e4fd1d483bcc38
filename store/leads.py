"""Pure rules about leads: duplicate matching, scoring, assignment."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from store.config import Config

_COMPANY_SUFFIXES = re.compile(
    r"\b(inc|incorporated|corp|corporation|co|company|ltd|limited|llc|plc|gmbh|ag|sa|srl|bv|"
    r"pte|pty|kk)\b\.?|(有限责任公司|股份有限公司|有限公司|集团|公司)$"
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_NOT_DIGIT = re.compile(r"[^0-9]+")


@lru_cache(maxsize=1 << 16)
def normalise_company(company: str) -> str:
    """Cached: an import or a duplicate check meets the same companies again and again."""
    text = unicodedata.normalize("NFKC", company).casefold()
    text = _COMPANY_SUFFIXES.sub(" ", text)
    return _NON_WORD.sub("", text)


def normalise_name(name: str) -> str:
    if name.isascii():  # NFKC leaves ASCII as it is, and casefold is lower: a third of the cost
        return _NON_WORD.sub("", name.lower())
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", name).casefold())


def normalise_phone(phone: str | None) -> str:
    """The last 9 digits: the same number written with or without a country code."""
    digits = _NOT_DIGIT.sub("", phone) if phone else ""  # a stored phone's digits are ASCII
    return digits[-9:] if len(digits) >= 6 else ""


def match_keys(doc: Mapping[str, Any]) -> set[str]:
    """Keys under which two records are the same person or company."""
    keys: set[str] = set()
    get = doc.get  # a merge's report calls this for every lead: kept lean
    email = get("email")
    if email:
        keys.add("email:" + str(email).casefold())
    phone = get("phone")
    if phone:
        phone = normalise_phone(phone)
        if phone:
            keys.add("phone:" + phone)
    company, name = get("company"), get("name")
    if company and name:  # the name is normalised only when there is a company to pair it with
        company = normalise_company(str(company))
        name = normalise_name(str(name)) if company else ""
        if name:
            keys.add(f"person:{company}|{name}")
    return keys


def customer_match_keys(doc: Mapping[str, Any]) -> set[str]:
    """A customer matches a lead by email, phone, or by company name alone."""
    keys = {k for k in match_keys({"email": doc.get("email"), "phone": doc.get("phone")})}
    company = normalise_company(str(doc.get("name") or ""))
    if company:
        keys.add("company:" + company)
    return keys


def lead_lookup_keys(doc: Mapping[str, Any]) -> set[str]:
    """The keys of a lead, plus its company key to find existing customers."""
    keys = match_keys(doc)
    company = normalise_company(str(doc.get("company") or ""))
    if company:
        keys.add("company:" + company)
    return keys


_SOURCE_POINTS = {"referral": 30, "trade show": 25, "partner": 25, "website": 20, "social media": 10, "cold call": 5}
_STATUS_POINTS = {"new": 0, "contacted": 10, "qualified": 20}


def score_lead(doc: Mapping[str, Any]) -> int:
    """A simple, explainable 0-100 score from what is known about a lead."""
    score = _SOURCE_POINTS.get(str(doc.get("source") or ""), 5)
    score += 15 if doc.get("email") else 0
    score += 15 if doc.get("phone") else 0
    score += 10 if doc.get("company") else 0
    score += 10 if doc.get("title") else 0
    score += _STATUS_POINTS.get(str(doc.get("status")), 0)
    return min(score, 100)


def pick_owner(config: Config, lead: Mapping[str, Any], recent_owners: Iterable[str]) -> str:
    """Who gets a new unowned lead under the configured rule.

    Round robin continues after the rep who most recently got a lead.
    """
    reps = config.rep_ids()
    rule = config.assignment
    if rule.rule == "by_source" and lead.get("source") in rule.map:
        return rule.map[str(lead["source"])]
    if rule.rule == "by_region" and lead.get("region") in rule.map:
        return rule.map[str(lead["region"])]
    last = next(iter(recent_owners), None)
    if last in reps:
        return reps[(reps.index(last) + 1) % len(reps)]
    return reps[0]


OPEN_STATUSES = frozenset({"new", "contacted", "qualified"})


def due_for_pool(leads: Iterable[Mapping[str, Any]], today: date, days: int) -> list[str]:
    """Ids of open leads their owner has not followed up for more than ``days`` days.

    The clock starts at the last contact, else at the last assignment or claim
    (a claimed lead gets a fresh ``days``), else at creation.
    """
    limit = (today - timedelta(days=days)).isoformat()
    due = []
    for lead in leads:
        if lead.get("in_pool") or lead.get("status") not in OPEN_STATUSES:
            continue
        touched = max(str(lead.get("created_at") or ""), str(lead.get("last_contacted_at") or ""))
        # Only a lead not touched since the limit needs its history read (it may be kept encoded).
        if touched[:10] < limit and _last_touch(lead, touched) < limit:
            due.append(str(lead["id"]))
    return due


def _last_touch(lead: Mapping[str, Any], touched: str) -> str:
    touches = [touched, *(str(e.get("at")) for e in lead.get("history") or ()
                          if e.get("kind") in ("assigned", "claimed", "created"))]
    return max(touches)[:10]
