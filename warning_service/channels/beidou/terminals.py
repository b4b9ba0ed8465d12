"""BeiDou terminals as admins register them (`flask endpoints add-beidou`, the admin's endpoints page;
directory.py does the adding and the audit): a 7-digit card address, registered once, and the
township where it stands when known.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import BeidouTerminal, County
from ...registration import RegistryError, checked_township, target_flags
from ..spec import N_, Checked, FormField, ListColumn, TargetKind

_CARD_RE = re.compile(r"\d{7}")

REFUSALS: Mapping[str, str] = {
    "card_malformed": N_("a BeiDou card address has 7 digits"),
    "card_taken": N_("card %(card)s is already terminal %(terminal)s"),
    "beidou_terminal_inactive": N_("BeiDou terminal %(id)s (%(name)s) is already inactive"),
}


class TerminalRefused(RegistryError):
    """What a BeiDou terminal's registration refuses (see RegistryError)."""

    texts = REFUSALS


def check(session: Session, county: County, values: Mapping[str, Any], terminal: BeidouTerminal | None) -> Checked:
    card = (values.get("card") or "").strip()
    if not _CARD_RE.fullmatch(card):
        raise TerminalRefused("card", "card_malformed")
    township = checked_township(values.get("township"), county)
    existing = session.scalar(select(BeidouTerminal).where(BeidouTerminal.card_address == card))
    if existing is not None and existing is not terminal:
        raise TerminalRefused("card", "card_taken", conflict=True, card=card, terminal=f"{existing.id}{target_flags(existing)}")
    is_group = bool(values.get("is_group"))
    return Checked({"card_address": card, "township_code": township, "is_group": is_group},
                   audit={"card": card, "township": township, "is_group": is_group} if terminal is None else {},
                   default_name=f"{county.name_zh}北斗终端 {card}")


TERMINALS = TargetKind(
    key="beidou_terminal",
    path="beidou",
    noun="BeiDou terminal",
    nouns="BeiDou terminals",
    model=BeidouTerminal,
    fields=(
        FormField("card", N_("Card address (7 digits)"), attribute="card_address", required=True, max_length=7,
                  metavar="ADDRESS", help="The terminal's 7-digit BeiDou card address."),
        FormField("township", N_("Township code (12 digits, optional)"), attribute="township_code", max_length=12,
                  metavar="CODE", help="The 12-digit township code where it stands."),
        FormField("is_group", N_("Group (broadcast) address"), kind="flag", attribute="is_group", option="group",
                  help="A group (broadcast) address."),
    ),
    columns=(ListColumn(N_("Township"), "township_code"), ListColumn(N_("Card"), "card_address", "code"),
             ListColumn(N_("Name"), "name", "link"), ListColumn(N_("Group"), "is_group", "flag")),
    check=check,
    describe=lambda terminal: (terminal.county_code, terminal.township_code or "-", terminal.card_address,
                               terminal.name),
    refused=TerminalRefused,
    heading=N_("BeiDou terminals"),
    add_label=N_("Add a BeiDou terminal"),
    title=N_("BeiDou terminal %(name)s"),
    added=N_("BeiDou terminal %(name)s added."),
    saved=N_("BeiDou terminal %(name)s saved."),
)
