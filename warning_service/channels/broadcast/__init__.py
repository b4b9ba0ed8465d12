"""County emergency broadcast: one EBM package to each county's platform, played on its loudspeakers
(http.py: the platforms' signed HTTP interface). Its targets are the platforms admins register
(endpoints.py); each serves its whole county, so it gets both languages and has no township.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ...models import Alert, BroadcastEndpoint
from ...models.sql import ids_in
from ...rendering.budgets import BroadcastBudget, Budget
from ..spec import N_, PLACE_LANGUAGES, Address, ChannelSpec
from .endpoints import ENDPOINTS, check_endpoints

SETTINGS: Mapping[str, Any] = {
    # null, log (development) or http; the endpoints live in the database.
    "BROADCAST_GATEWAY": "log",
    "BROADCAST_SENDER_NAME": "甘孜阿坝预警信息发布平台",
    "BROADCAST_SENDER_CODE": "513300000000",
    "BROADCAST_TIMEOUT_SECONDS": 5.0,
    # Recorded Tibetan audio for broadcasts (there is no Tibetan TTS): <dir>/<county code>/<hazard code>.bo.mp3.
    "BROADCAST_AUDIO_DIR": str(Path(__file__).resolve().parents[3] / "templates_bo_zh" / "audio"),
    # The longest read-out, in seconds.
    "BROADCAST_MAX_SECONDS": 60,
}


def select_targets(session: Session, alert: Alert, counties: Sequence[str], is_exercise: bool) -> Select:
    """The counties' active platforms; an exercise reaches only exercise platforms, a real alert only real ones."""
    return select(BroadcastEndpoint.id.label("target_id"), BroadcastEndpoint.county_code).where(
        BroadcastEndpoint.county_code.in_(counties),
        BroadcastEndpoint.active.is_(True),
        BroadcastEndpoint.exercise.is_(is_exercise),
    )


def addresses(session: Session, target_ids: Sequence[int]) -> dict[int, Address]:
    rows = session.execute(select(BroadcastEndpoint.id, BroadcastEndpoint.url, BroadcastEndpoint.secret,
                                  BroadcastEndpoint.county_code)
                           .where(ids_in(session, BroadcastEndpoint.id, target_ids)))
    return {tid: Address(url, PLACE_LANGUAGES, secret, county) for tid, url, secret, county in rows}


def budget(settings: Mapping[str, Any]) -> Budget:
    return BroadcastBudget(float(settings.get("BROADCAST_MAX_SECONDS", SETTINGS["BROADCAST_MAX_SECONDS"])))


CHANNEL = ChannelSpec(
    name="broadcast",
    label=N_("County broadcast"),
    reach_label=N_("Broadcast endpoints"),
    reach_count=N_("%(count)d broadcast endpoints"),
    priority=10,  # first: loudspeakers play at once, which is what an earthquake's seconds need
    gateway_setting="BROADCAST_GATEWAY",
    adapters={"http": "warning_service.channels.broadcast.http:BroadcastAdapter"},
    settings=SETTINGS,
    target=BroadcastEndpoint,
    select_targets=select_targets,
    addresses=addresses,
    budget=budget,
    template="broadcast",
    registrable=(ENDPOINTS,),
    check_targets=check_endpoints,
)
