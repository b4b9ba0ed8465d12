"""What an auditor asks after a warning: who was reached, where, by which channel, how fast, and
who was not. Queries over the deliveries of one alert (its delivery log: delivery_log.py); no Flask here.

Times are measured from the moment the alert was published, as the audit ledger recorded it; their
percentiles come from one histogram (audit/timing.py). Figures for an alert of 1.78 M deliveries:
docs/BENCHMARKS.md, bench/report.py.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ..channels.catalog import channels, county_channels
from ..channels.cell_broadcast import CHANNEL as CELL_BROADCAST
from ..models import Alert, AuditEvent, CbcBroadcast, CbcOperator, CbcState, County, Delivery, DeliveryStatus

ACCEPTED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED)
REACHED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)  # accepted by the gateway and not reported lost
NOT_REACHED = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED, DeliveryStatus.PENDING,
               DeliveryStatus.SENDING)
GAP_LIMIT = 200


def mask_phone(phone: str) -> str:
    """138****5678 for Chinese mobiles; other numbers keep their first and last four digits."""
    national = phone[3:] if phone.startswith("+86") else None
    if national and len(national) == 11:
        return f"{national[:3]}****{national[-4:]}"
    return f"{phone[:5]}****{phone[-4:]}" if len(phone) > 9 else "****"


def counts(session: Session, alert_id: int) -> dict[str, dict[str, dict[str, int]]]:
    """channel -> county -> status -> deliveries, on the channels counted per county (a cell broadcast
    reaches the whole area at once, one delivery per operator: `operator_progress`)."""
    table: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = session.execute(
        select(Delivery.channel, Delivery.county_code, Delivery.status, func.count())
        .where(Delivery.alert_id == alert_id, Delivery.channel.in_([spec.name for spec in county_channels()]))
        .group_by(Delivery.channel, Delivery.county_code, Delivery.status))
    for channel, county, status, count in rows:
        table[channel][county][status.value] = count
    return {channel: dict(counties) for channel, counties in table.items()}


@dataclass(frozen=True)
class OperatorProgress:
    """One operator's cell broadcast of an alert: its delivery, and what its CBC reported since."""

    code: str
    name: str
    status: DeliveryStatus
    accepted_at: datetime | None  # when the CBC accepted it
    state: CbcState | None  # None: no status callback yet
    cells: int
    failed_cells: int
    detail: str | None  # the CBC's reason when it refused, or why it could not be sent

    @property
    def settled(self) -> bool:
        """Nothing more will change: refused, or the CBC reported an end (completed, failed, cancelled)."""
        if self.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            return False
        return self.status in (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED) or (
            self.state is not None and self.state != CbcState.BROADCASTING)


def operator_progress(session: Session, alert_id: int) -> list[OperatorProgress]:
    """Per operator, by code: accepted when, broadcasting or ended, cells on the air and failed."""
    rows = session.execute(
        select(CbcOperator.code, CbcOperator.name, Delivery.status, Delivery.sent_at, CbcBroadcast.state,
               CbcBroadcast.cells, CbcBroadcast.failed_cells, Delivery.gateway_text)
        .join(CbcOperator, CbcOperator.id == Delivery.target_id)
        .outerjoin(CbcBroadcast, CbcBroadcast.delivery_id == Delivery.id)
        .where(Delivery.alert_id == alert_id, Delivery.channel == CELL_BROADCAST.name)
        .order_by(CbcOperator.code))
    return [OperatorProgress(code, name, status, sent_at, state, cells or 0, failed or 0, text)
            for code, name, status, sent_at, state, cells, failed, text in rows]


def published_at(session: Session, alert_id: int) -> datetime | None:
    return session.scalar(select(func.min(AuditEvent.at)).where(
        AuditEvent.action == "alert.publish", AuditEvent.subject_type == "alerts", AuditEvent.subject_id == alert_id))


@dataclass(frozen=True)
class Gap:
    county_code: str
    who: str        # a masked phone number, or "county" when the county had nothing reached
    reason: str


def reached_counties(table: dict[str, dict[str, dict[str, int]]]) -> set[str]:
    """The counties where some delivery was reached, from `counts`."""
    reached = {status.value for status in REACHED}
    return {county for counties in table.values() for county, statuses in counties.items()
            if any(statuses.get(status) for status in reached)}


def gaps(session: Session, alert: Alert, table: dict[str, dict[str, dict[str, int]]] | None = None) -> Iterator[Gap]:
    """Counties where nothing reached anyone, then people no channel reached (first GAP_LIMIT, by channel,
    county and delivery): the targets with a phone number (`ChannelSpec.phone`) whose delivery, and its
    failover's, did not reach them. `table`: the alert's `counts`, when the caller has them already; they
    name the counties reached and those with people not reached, so the people are looked up one such
    county at a time (a few thousand rows each) rather than sorted from all the alert's unreached rows."""
    table = table if table is not None else counts(session, alert.id)
    reached = reached_counties(table)
    for county in alert.county_codes:
        if county not in reached:
            yield Gap(county, "county", "no delivery on any channel was accepted in this county")
    not_reached = {status.value for status in NOT_REACHED}
    moved_row = aliased(Delivery)
    rescued = select(moved_row.id).where(moved_row.failover_of_id == Delivery.id, moved_row.status.in_(REACHED))
    wanted = GAP_LIMIT
    for channel in channels():
        if channel.phone is None:
            continue
        counties = sorted(county for county, statuses in table.get(channel.name, {}).items()
                          if any(statuses.get(status) for status in not_reached))
        unreached = (
            select(Delivery.county_code, channel.phone, Delivery.status, Delivery.gateway_code, Delivery.gateway_text)
            .join(channel.target, channel.target.id == Delivery.target_id)
            .where(Delivery.alert_id == alert.id, Delivery.channel == channel.name, Delivery.status.in_(NOT_REACHED),
                   ~rescued.exists()))
        for county in counties:
            rows = session.execute(unreached.where(Delivery.county_code == county).order_by(Delivery.id)
                                   .limit(wanted)).all()
            for county_code, phone, status, code, text in rows:
                reason = status.value + (f" ({code})" if code else "") + (f": {text}" if text else "")
                yield Gap(county_code, mask_phone(phone), reason)
            wanted -= len(rows)
            if not wanted:
                return


def county_names(session: Session, codes) -> dict[str, tuple[str, str]]:
    return {county.code: (county.name_zh, county.name_bo)
            for county in session.scalars(select(County).where(County.code.in_(list(codes))))}
