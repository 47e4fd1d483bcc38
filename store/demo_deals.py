"""The demo's opportunities: the stages each went through, its quotes, amount and close-date
changes, its activities, and the repeat deals of returning customers. A part of the demo's
builder (``store.demo._DemoBuilder``), kept apart by concern."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from store.demo_data import (
    CLOSE_DATE_MOVES,
    DEAL_ACTIVITY_KINDS,
    DEAL_TYPES,
    DISCOUNTS,
    NEXT_STEPS,
    PRODUCTS,
    REPEAT_DEALS,
    REVISIT_KINDS,
    SUBJECTS,
    Culture,
    DealType,
)
from store.demo_drafts import _CustomerDraft
from store.demo_people import Company
from store.models import (
    Activity,
    Contact,
    FieldChange,
    Opportunity,
    Quote,
    QuoteLine,
    StageChange,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class _Offer:
    """What a deal sells: its quote lines, and the amount estimated before any quote."""

    lines: tuple[QuoteLine, ...]
    estimate: Decimal


class DealDrafts:
    """Mixed into the demo's builder: its deals."""

    # -- opportunities -----------------------------------------------------------------------------------
    def _stage_sequence(self, target: str, allowed: int, forced: bool) -> list[str]:
        """Stages a deal went through to reach ``target``; at most ``allowed`` of them."""
        if target == self.won:
            path, tail = self._with_skips(self.open_keys), [self.won]
        elif target == self.lost:
            reached = self.draw.rng.randrange(len(self.open_keys)) + 1
            path, tail = self._with_skips(self.open_keys[:reached]), [self.lost]
        else:
            path, tail = self._with_skips(self.open_keys[: self.open_keys.index(target) + 1]), []
        sequence = (path if forced else self._maybe_backwards(path, closing=bool(tail))) + tail
        limit = max(allowed, 2) if forced else allowed
        if len(sequence) <= limit:
            return sequence
        if limit < 2 or sequence[0] == sequence[-1]:
            return sequence[:1]
        return [sequence[0], sequence[-1]]

    def _with_skips(self, keys: list[str]) -> list[str]:
        inner = [key for key in keys[1:-1] if not self.draw.chance(0.12)]
        return keys[:1] + inner + keys[-1:] if len(keys) > 1 else list(keys)

    def _maybe_backwards(self, path: list[str], *, closing: bool) -> list[str]:
        """Now and then a deal moves a stage back (and, unless it ends there, on again)."""
        if len(path) < 2 or not self.draw.chance(0.07):
            return path
        i = self.draw.rng.randrange(1, len(path))
        if i == len(path) - 1 and not closing:
            return [*path, path[i - 1]]
        return [*path[: i + 1], path[i - 1], path[i], *path[i + 1:]]

    def _stage_history(self, created: datetime, owner: str, target: str | None,
                       repeat: bool) -> tuple[list[StageChange], bool]:
        """Backdated stage changes, and whether the deal went quiet (stale) after the last one."""
        draw = self.draw
        elapsed = draw.horizon - created
        sequence = self._stage_sequence(target or draw.weighted(self.targets[repeat]),
                                        1 + elapsed.days // 3, forced=target is not None)
        still_open = sequence[-1] in self.open_keys
        stale = still_open and elapsed.days > 21 and draw.chance(0.15)
        share = draw.rng.uniform(0.1, 0.35) if stale else draw.rng.uniform(0.3 if still_open else 0.15, 1.0)
        end = min(created + elapsed * share, draw.horizon)
        times = [created, *draw.moments(created, end, len(sequence) - 1)]
        history = [StageChange.model_construct(id=draw.uid(), stage=stage, at=at, by=owner)
                   for stage, at in zip(sequence, times, strict=True)]
        return history, stale

    def _opportunity(self, customer: _CustomerDraft, contact: Contact, created: datetime, owner: str, *,
                     lead_id: str | None = None, target: str | None = None,
                     repeat: bool = False) -> Opportunity:
        history, stale = self._stage_history(created, owner, target, repeat)
        deal_type = self.draw.pick(DEAL_TYPES)
        offer = self._offer(customer.company, deal_type[2])
        quotes = self._quotes(history, offer, owner, customer.company.culture)
        title = self._deal_title(customer.company, deal_type, repeat)
        deal = self._deal_record(customer, contact, owner, lead_id, title, history, quotes, offer)
        self.opportunities.append(deal)
        customer.deals.append(deal)
        self._deal_activities(deal, customer.company.culture, stale)
        return deal

    def _deal_title(self, company: Company, deal_type: DealType, repeat: bool) -> str:
        cn = company.culture == "cn"
        title = deal_type[1] if cn else deal_type[0]
        if repeat:
            again = self.draw.pick(REPEAT_DEALS)
            title = f"{title}（{again[1]}）" if cn else f"{title} ({again[0]})"
        return f"{company.name}: {title}"

    def _deal_record(self, customer: _CustomerDraft, contact: Contact, owner: str, lead_id: str | None,
                     title: str, history: list[StageChange], quotes: list[Quote],
                     offer: _Offer) -> Opportunity:
        draw, culture = self.draw, customer.company.culture
        stage, closed = history[-1].stage, history[-1].at
        closes = stage in (self.won, self.lost)
        amount, changes = self._amount_changes(history, quotes, offer, owner)
        expected, close_changes = self._expected_close(history, closes, owner)
        changes = sorted(changes + close_changes, key=lambda c: c.at)
        stamps = [c.at for c in history] + [q.at for q in quotes] + [c.at for c in changes]
        return Opportunity.model_construct(
            id=draw.uid(), owner=owner, created_at=history[0].at, updated_at=max(stamps), title=title,
            customer_id=customer.id, contact_id=contact.id, lead_id=lead_id, amount=amount,
            currency=self.config.currency, stage=stage, expected_close=expected,
            next_step="" if closes or draw.chance(0.15) else draw.pick(NEXT_STEPS[culture]),
            lost_reason=draw.pick(self.config.lost_reasons) if stage == self.lost else "",
            forecast_category=None, closed_at=closed if closes else None, notes="",
            stage_history=history, quotes=quotes, changes=changes)

    def _offer(self, company: Company, product_indexes: tuple[int, ...]) -> _Offer:
        draw = self.draw
        lines = []
        for index in product_indexes[: draw.rng.randint(1, len(product_indexes))]:
            name_en, name_cn, low, high, per_seat = PRODUCTS[index]
            quantity = draw.rng.randint(5, 60) if per_seat else draw.rng.randint(1, 8)
            lines.append(QuoteLine.model_construct(
                product=name_cn if company.culture == "cn" else name_en,
                quantity=Decimal(quantity * company.size),
                unit_price=Decimal(draw.rng.randrange(low, high + 1, 10)),
                discount_pct=Decimal(draw.pick(DISCOUNTS))))
        total = sum((line.total for line in lines), Decimal(0))
        estimate = Decimal(round(float(total) * draw.rng.uniform(0.8, 1.25), -2)).quantize(CENT)
        return _Offer(tuple(lines), max(estimate, Decimal(500)))

    def _quote_sent_at(self, history: list[StageChange]) -> datetime | None:
        """When the deal first reached the quote stage or a later one (a win counts)."""
        for change in history:
            if change.stage == self.won:
                return change.at
            if change.stage in self.open_keys and self.open_keys.index(change.stage) >= self.quote_index:
                return change.at
        return None

    def _quotes(self, history: list[StageChange], offer: _Offer, owner: str, culture: Culture) -> list[Quote]:
        """Version 1 when the deal reached the quote stage; now and then a revised version 2."""
        sent = self._quote_sent_at(history)
        if sent is None:
            return []
        draw, currency = self.draw, self.config.currency
        quotes = [Quote.model_construct(id=draw.uid(), version=1, at=sent, by=owner, currency=currency,
                                        lines=list(offer.lines), note="")]
        end = history[-1].at if history[-1].at > sent else draw.horizon
        if draw.chance(0.18) and end - sent > timedelta(hours=2):
            revised = [line.model_copy(update={"discount_pct": min(line.discount_pct + 5, Decimal(30))})
                       for line in offer.lines]
            note = "修订：批量折扣" if culture == "cn" else "Revised: volume discount"
            quotes.append(Quote.model_construct(id=draw.uid(), version=2,
                                                at=draw.moment(sent + timedelta(hours=1), end), by=owner,
                                                currency=currency, lines=revised, note=note))
        return quotes

    def _amount_changes(self, history: list[StageChange], quotes: list[Quote], offer: _Offer,
                        owner: str) -> tuple[Decimal, list[FieldChange]]:
        """The amount and its changes: the estimate becomes the quoted total, a revision changes
        it again; now and then an early estimate is raised before any quote."""
        changes: list[FieldChange] = []
        amount = offer.estimate
        if not quotes and len(history) > 1 and self.draw.chance(0.1):
            first_guess = (offer.estimate * Decimal("0.8")).quantize(CENT)
            changes.append(self._change("amount", history[-1].at, owner, first_guess, amount))
        for quote in quotes:
            if quote.total != amount:
                changes.append(self._change("amount", quote.at, owner, amount, quote.total))
                amount = quote.total
        return amount, changes

    def _change(self, name: str, at: datetime, by: str, old: object, new: object) -> FieldChange:
        return FieldChange.model_construct(id=self.draw.uid(), field=name, at=at, by=by,
                                           old=str(old), new=str(new))

    def _expected_close(self, history: list[StageChange], closes: bool,
                        owner: str) -> tuple[date, list[FieldChange]]:
        """The expected close date and its recorded moves: open deals slip, some past due."""
        draw = self.draw
        if closes:
            expected = history[-1].at.date() + timedelta(days=draw.rng.randint(-10, 20))
            moves = 1 if draw.chance(0.1) else 0
            return expected, self._close_moves(expected, moves, history[0].at, history[-1].at, owner)
        expected = draw.day(-25, -1) if draw.chance(0.15) else draw.day(3, 80)
        moves = draw.weighted(CLOSE_DATE_MOVES)
        return expected, self._close_moves(expected, moves, history[0].at, draw.horizon, owner)

    def _close_moves(self, current: date, count: int, lo: datetime, hi: datetime,
                     owner: str) -> list[FieldChange]:
        """``count`` moves of the expected close date, each later than the one before; half
        of the time within the last week, for the weekly review's slipped deals."""
        if count == 0:
            return []
        draw = self.draw
        recent = max(lo, hi - timedelta(days=7))
        times = draw.moments(recent if draw.chance(0.5) else lo, hi - timedelta(minutes=1), count)
        values = [current]
        for _ in range(count):
            values.insert(0, values[0] - timedelta(days=draw.rng.randint(7, 30)))
        return [self._change("expected_close", at, owner, old, new)
                for at, old, new in zip(times, values, values[1:], strict=False)]

    def _deal_activities(self, deal: Opportunity, culture: Culture, stale: bool) -> None:
        """An activity for each stage change and quote, a few more, and for a live deal
        often one in the last ten days; a stale deal has none after its last change."""
        draw = self.draw
        links = {"opportunity_id": deal.id, "customer_id": deal.customer_id, "contact_id": deal.contact_id}
        for change in deal.stage_history:
            kind = "call" if change.stage == self.open_keys[0] else draw.pick(REVISIT_KINDS)
            self._activity(kind, draw.within(change.at, 0.1), deal.owner, culture, **links)
        for quote in deal.quotes:
            body = f"v{quote.version}: {quote.total:,.2f} {quote.currency}"
            self._activity("quote_sent", quote.at, deal.owner, culture, body=body, **links)
        last = deal.stage_history[-1].at
        end = min(last + timedelta(days=1), draw.horizon) if stale or deal.closed_at else draw.horizon
        for at in draw.moments(deal.created_at, end, draw.rng.randint(0, 2)):
            self._activity(draw.weighted(DEAL_ACTIVITY_KINDS), at, deal.owner, culture, **links)
        if not stale and deal.closed_at is None and draw.chance(0.6):
            recent = draw.moment(max(deal.created_at, draw.horizon - timedelta(days=10)))
            self._activity(draw.weighted(DEAL_ACTIVITY_KINDS), recent, deal.owner, culture, **links)

    def _activity(self, kind: str, at: datetime, owner: str, culture: Culture, *, body: str = "",
                  **links: str | None) -> None:
        self.activities.append(Activity.model_construct(
            id=self.draw.uid(), owner=owner, created_at=at, updated_at=at, kind=kind, at=at,
            subject=self.draw.pick(SUBJECTS[(culture, kind)]), body=body, **links))

    def _add_repeat_deals(self) -> None:
        """Customers who come back after a first win: a follow-on deal (the first one wins)."""
        forced_win: str | None = self.won
        for customer in list(self.customers.values()):
            wins = [d.closed_at for d in customer.deals if d.stage == self.won and d.closed_at]
            if not wins or min(wins) > self.draw.horizon - timedelta(days=10) or not self.draw.chance(0.25):
                continue
            created = self.draw.moment(min(wins) + timedelta(days=3), self.draw.horizon - timedelta(days=1))
            contact = self.draw.pick(customer.contacts)
            self._opportunity(customer, contact, created, customer.owner, repeat=True, target=forced_win)
            forced_win = None
