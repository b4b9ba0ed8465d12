"""BeiDou short messages to the cards of villages with no mobile signal (serial.py: a user terminal on a
serial line). Its targets are the terminals admins register (terminals.py): village and group cards
get every alert of their county, a household card only when its owner's SMS fails over to it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from ...models import Alert, BeidouTerminal, Recipient
from ...models.sql import ids_in
from ...rendering.budgets import BDS3_REGIONAL_BITS, BeidouBudget
from ..spec import N_, PLACE_LANGUAGES, Address, ChannelSpec
from .terminals import TERMINALS

SETTINGS: Mapping[str, Any] = {
    # null, log (development) or serial.
    "BEIDOU_GATEWAY": "log",
    # The user terminal (BEIDOU_GATEWAY=serial): /dev/ttyUSB0 in the field, socket://host:port in tests.
    "BEIDOU_SERIAL_URL": "/dev/ttyUSB0",
    "BEIDOU_PROTOCOL": "2.1",
    "BEIDOU_BAUDRATE": 115200,
    # The card's capacity per message (BDS-3 regional; no card reports it) and the parts one text may take.
    "BEIDOU_CAPACITY_BITS": BDS3_REGIONAL_BITS,
    "BEIDOU_MAX_PARTS": 1,
}


def select_targets(session: Session, alert: Alert, counties: Sequence[str], is_exercise: bool) -> Select:
    """Village and standalone cards. A household card whose owner has a phone is kept for failover, so
    the card's scarce capacity goes where SMS cannot; cards marked for exercises get exercises only."""
    owned = exists().where(Recipient.beidou_terminal_id == BeidouTerminal.id)
    return select(BeidouTerminal.id.label("target_id"), BeidouTerminal.county_code).where(
        BeidouTerminal.county_code.in_(counties),
        BeidouTerminal.active.is_(True),
        BeidouTerminal.exercise.is_(is_exercise),
        BeidouTerminal.is_group.is_(True) | ~owned,
    )


def addresses(session: Session, target_ids: Sequence[int]) -> dict[int, Address]:
    rows = session.execute(select(BeidouTerminal.id, BeidouTerminal.card_address)
                           .where(ids_in(session, BeidouTerminal.id, target_ids)))
    return {tid: Address(card, PLACE_LANGUAGES) for tid, card in rows}


def budget(settings: Mapping[str, Any]) -> BeidouBudget:
    """The card's capacity, coding ("auto", or BEIDOU_MODE "mixed" for terminals that only send mixed) and parts."""
    return BeidouBudget(int(settings.get("BEIDOU_CAPACITY_BITS", BDS3_REGIONAL_BITS)),
                        str(settings.get("BEIDOU_MODE", "auto")), int(settings.get("BEIDOU_MAX_PARTS", 1)))


CHANNEL = ChannelSpec(
    name="beidou",
    label=N_("BeiDou"),
    reach_label=N_("BeiDou terminals"),
    reach_count=N_("%(count)d BeiDou terminals"),
    priority=20,
    gateway_setting="BEIDOU_GATEWAY",
    adapters={"serial": "warning_service.channels.beidou.serial:BeidouAdapter"},
    settings=SETTINGS,
    target=BeidouTerminal,
    select_targets=select_targets,
    addresses=addresses,
    budget=budget,
    template="beidou",
    township=BeidouTerminal.township_code,
    registrable=(TERMINALS,),
    paced=True,
)
