"""An alert's delivery log: its deliveries narrowed by county (code or name in any language, as the
console's county picker finds them), township, channel, state and, for admins, phone number; read a
page at a time with the totals, or every matching row for the CSV export, a chunk at a time (never all
in memory). Phone numbers are masked. No Flask here: a filter value that names nothing raises
`LogQueryError` with a stable code the console words in the officer's language.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, null, select
from sqlalchemy.orm import Session, aliased

from ..channels.catalog import channels
from ..geography.county_search import matching_counties
from ..models import County, Delivery, DeliveryStatus
from ..rendering.formatting import beijing_time
from .report import mask_phone
from .townships import with_townships

PER_PAGE = 200
MAX_PER_PAGE = 1000
TOWNSHIP_CODE_LENGTH = 12  # GB/T 2260 township codes
STATUSES = tuple(status.value for status in DeliveryStatus)


class LogQueryError(ValueError):
    """A filter or paging value of the delivery log that names nothing: `code` says which rule, `value`
    what was given, `allowed` what would have been understood (the console words it)."""

    def __init__(self, code: str, value: str, allowed: str = "") -> None:
        super().__init__(f"{code}: {value!r}")
        self.code, self.value, self.allowed = code, value, allowed


@dataclass(frozen=True)
class LogFilter:
    """What an auditor narrows an alert's delivery log to; phone search is for admins (the caller checks)."""

    county: str | None = None
    channel: str | None = None
    status: str | None = None
    phone: str | None = None
    township: str | None = None


@dataclass(frozen=True)
class LogPage:
    """One page of the log and where it stands among all the matching rows."""

    rows: list[tuple]
    total: int
    page: int
    per_page: int
    counties: tuple[str, ...] = ()   # the county codes the county filter named, to show what it found

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """1-based position of the page's first row (0 when nothing matches)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


def parse_paging(page: str | None, per_page: str | None) -> tuple[int, int]:
    """The page number and size asked for (1 and PER_PAGE when not given), each a positive whole number,
    the size at most MAX_PER_PAGE."""
    def whole(text: str | None, default: int, code: str, upper: int | None = None) -> int:
        if not text:
            return default
        if not text.strip().isdigit() or int(text) < 1 or (upper is not None and int(text) > upper):
            raise LogQueryError(code, text, f"1–{upper}" if upper else "1, 2, 3 …")
        return int(text)

    return whole(page, 1, "bad_page"), whole(per_page, PER_PAGE, "bad_per_page", MAX_PER_PAGE)


def county_codes(session: Session, wanted: str) -> tuple[str, ...]:
    """The county codes a typed code or name stands for; LogQueryError when it names none."""
    codes = matching_counties(session.scalars(select(County)), wanted)
    if not codes:
        raise LogQueryError("unknown_county", wanted)
    return tuple(codes)


def _conditions(session: Session, alert_id: int, wanted: LogFilter, phone: ColumnElement
                ) -> tuple[list, tuple[str, ...]]:
    """The WHERE clauses over deliveries (joined to their targets' `phone`: `_Phones`) for the filter, and
    the counties it named; LogQueryError for a value that names nothing."""
    where: list = [Delivery.alert_id == alert_id]
    counties: tuple[str, ...] = ()
    if wanted.county:
        counties = county_codes(session, wanted.county)
        where.append(Delivery.county_code.in_(counties))
    if wanted.channel:
        names = [channel.name for channel in channels()]
        if wanted.channel.strip() not in names:
            raise LogQueryError("unknown_channel", wanted.channel, ", ".join(names))
        where.append(Delivery.channel == wanted.channel.strip())
    if wanted.status:
        if wanted.status.strip() not in STATUSES:
            raise LogQueryError("unknown_status", wanted.status, ", ".join(STATUSES))
        where.append(Delivery.status == DeliveryStatus(wanted.status.strip()))
    if wanted.phone:
        where.append(phone.contains(wanted.phone.strip(), autoescape=True))
    if wanted.township:
        township = wanted.township.strip()
        if not (township.isdigit() and len(township) == TOWNSHIP_CODE_LENGTH):
            raise LogQueryError("bad_township", wanted.township)
        in_township, of_target = with_townships(select(Delivery.id))
        where.append(Delivery.id.in_(in_township.where(Delivery.alert_id == alert_id, of_target == township)))
    return where, counties


@dataclass(frozen=True)
class _Phones:
    """The targets of the channels that reach phones (`ChannelSpec.phone`), aliased for one query, and the
    phone number of each delivery's target (NULL for targets without one)."""

    joins: tuple[tuple[Any, str], ...]  # (aliased target model, its channel's name)
    number: ColumnElement

    def join(self, query: Select) -> Select:
        for target, channel in self.joins:
            query = query.outerjoin(target, and_(Delivery.channel == channel, target.id == Delivery.target_id))
        return query


def _phones() -> _Phones:
    joins, numbers = [], []
    for channel in channels():
        if channel.phone is not None:
            target = aliased(channel.target)
            joins.append((target, channel.name))
            numbers.append(getattr(target, channel.phone.key))
    number = null() if not numbers else numbers[0] if len(numbers) == 1 else func.coalesce(*numbers)
    return _Phones(tuple(joins), number)


def _row_query(phones: _Phones, where: list) -> Select:
    return phones.join(select(
        Delivery.id, Delivery.channel, Delivery.county_code, Delivery.target_id, phones.number.label("phone"),
        Delivery.status, Delivery.attempts, Delivery.gateway_id, Delivery.gateway_code, Delivery.gateway_text,
        Delivery.sent_at, Delivery.delivered_at)).where(*where).order_by(Delivery.id)


def _as_row(row) -> tuple:
    """(id, channel, county, target, status, attempts, gateway id, code, text, sent, delivered); people
    as masked phone numbers, other targets as channel:id, times in Beijing time, as people read them."""
    target = mask_phone(row.phone) if row.phone else f"{row.channel}:{row.target_id}"
    return (row.id, row.channel, row.county_code, target, row.status.value, row.attempts,
            row.gateway_id or "", row.gateway_code or "", row.gateway_text or "",
            *(beijing_time(moment, seconds=True) if moment else "" for moment in (row.sent_at, row.delivered_at)))


def check_filter(session: Session, alert_id: int, wanted: LogFilter) -> None:
    """Raise LogQueryError now for a value that names nothing (before a streamed export has begun)."""
    _conditions(session, alert_id, wanted, _phones().number)


def delivery_rows(session: Session, alert_id: int, wanted: LogFilter = LogFilter(), chunk: int = 10_000
                  ) -> Iterator[tuple]:
    """Every matching delivery of the alert, in id order, for the CSV export: a chunk at a time, keyed on
    the last id read (never all in memory, no deep OFFSET). Plain rows, not ORM objects: nothing piles up
    in the session (and nothing in it, such as the signed-in user, is expunged)."""
    phones = _phones()
    where, _ = _conditions(session, alert_id, wanted, phones.number)
    after = 0
    while True:
        rows = session.execute(_row_query(phones, where).where(Delivery.id > after).limit(chunk)).all()
        if not rows:
            return
        for row in rows:
            yield _as_row(row)
        after = rows[-1].id


def search_log(session: Session, alert_id: int, wanted: LogFilter, page: int = 1, per_page: int = PER_PAGE
               ) -> LogPage:
    """One page of the matching deliveries (masked) and how many match in all; LogQueryError for a page
    past the last."""
    phones = _phones()
    where, counties = _conditions(session, alert_id, wanted, phones.number)
    total = session.scalar(phones.join(select(func.count(Delivery.id))).where(*where)) or 0
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise LogQueryError("bad_page", str(page), f"1–{pages}")
    rows = session.execute(_row_query(phones, where).offset((page - 1) * per_page).limit(per_page)).all()
    return LogPage([_as_row(row) for row in rows], total, page, per_page, counties)
