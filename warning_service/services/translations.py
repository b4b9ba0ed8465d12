"""The translation desk: list what the public can receive in Tibetan, propose, approve or return.

Four eyes: a translator proposes Tibetan (NFC, Tibetan script only, its length measured against the
budgets of the texts it is used in); a *different* translator approves it, or returns it with a
comment. Every step is in the ledger. Approved entries are laid over the templates_bo_zh/ data at once
(`overlay`, cached by a version key). The program never writes Tibetan: it stores what translators typed
and copies what sourced files hold. No Flask here; bad input raises TranslationRefused.
"""
from __future__ import annotations

import csv
import hashlib
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import escape, read_po
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..audit.events import record
from ..channels.catalog import budget_for
from ..hazards import catalogue
from ..models import (
    EntryStatus,
    NamedArea,
    ProposalState,
    Role,
    TranslationEntry,
    TranslationProposal,
    User,
    utcnow,
)
from ..models.translation import MAX_COMMENT, MAX_TIBETAN
from ..registration import RegistryError
from ..rendering import export
from ..rendering.budgets import Measure
from ..rendering.export import Approved
from ..rendering.formatting import beijing_time
from ..rendering.overlay import Overlay, area_key, chosen_action_key, place_key
from ..rendering.render import default_templates
from ..rendering.tibetan import is_han, is_tibetan, normalise
from ..rendering.translatable import Item, items

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
# The comment a bo catalog entry carries while its msgstr is Chinese standing in: missing on the desk.
STAND_IN = "no sourced Tibetan; Chinese stand-in"
# Kinds the renderer lays over its data (overlay.py); the others are exported or shown, not rendered here.
RENDERED_KINDS = frozenset({"hazard", "action", "term", "place"})
# The console's own messages: laid over the bo .mo (web/i18n.py) and exported into the bo messages.po.
CATALOG_KINDS = frozenset({"catalog"})
# Kinds `export_hazards` writes back into templates_bo_zh/hazards.toml.
HAZARD_KINDS = frozenset({"hazard", "action"})
# Kinds `flask translations export` writes back: those, and places into counties.csv and the named areas' rows
# (catalog entries: CATALOG_KINDS).
EXPORTED_KINDS = HAZARD_KINDS | {"place"}
STATUS_ORDER = {EntryStatus.MISSING: 0, EntryStatus.PROPOSED: 1, EntryStatus.APPROVED: 2}

REFUSAL_TEXTS: Mapping[str, str] = {
    "not_translator": "only a translator may do this",
    "entry_unknown": "no translation entry %(key)r",
    "proposal_unknown": "no proposal %(id)s",
    "tibetan_empty": "type the Tibetan",
    "tibetan_length": "at most %(max)s characters",
    "not_tibetan": "only Tibetan script (with digits, spaces and punctuation); found %(found)r",
    "not_proposed": "proposal %(id)s is %(state)s, not waiting for review",
    "four_eyes": "a second translator decides: %(user)s proposed this one",
    "comment_missing": "say why it goes back (a comment of at most %(max)s characters)",
}


class TranslationRefused(RegistryError):
    """Input the desk refuses (see RegistryError): `field` is key, bo, proposal or comment."""

    texts = REFUSAL_TEXTS


@dataclass(frozen=True)
class Fit:
    """A proposal's length in one text's budget (the text alone; a message also carries the rest)."""

    text: str
    measure: Measure

    @property
    def fits(self) -> bool:
        return self.measure.fits


# --- the list ----------------------------------------------------------------------

def sync(session: Session) -> None:
    """Create or update the desk's entries from the files and the named areas; desk approvals are kept."""
    wanted = {item.key: item for item in _all_items(session)}
    existing = {entry.key: entry for entry in session.scalars(select(TranslationEntry))}
    for key, item in wanted.items():
        entry = existing.get(key)
        if entry is None:
            entry = TranslationEntry(key=key, kind=item.kind, bo_source="", status=EntryStatus.MISSING)
            session.add(entry)
        entry.zh, entry.en, entry.hazard_code = item.zh, item.en, item.hazard_code
        entry.channels, entry.used_in = list(item.channels), item.used_in
        if item.bo and entry.approved_by_id is None:   # sourced in the files, not (yet) from the desk
            entry.bo, entry.bo_source, entry.status = item.bo, item.source, EntryStatus.APPROVED
    session.flush()


def list_entries(session: Session, *, hazard: str | None = None, channel: str | None = None,
                 status: str | None = None, kind: str | None = None) -> list[TranslationEntry]:
    """Missing first, then waiting for review, then approved; filtered by hazard, channel, status, kind."""
    sync(session)
    query = select(TranslationEntry)
    if hazard:
        offered = catalogue().get(hazard)
        codes = {code for codes in offered.choices.values() for code in codes} if offered else set()
        query = query.where(or_(TranslationEntry.hazard_code == hazard,
                                TranslationEntry.key.in_(sorted(map(chosen_action_key, codes)))))
    if status:
        query = query.where(TranslationEntry.status == EntryStatus(status))
    if kind:
        query = query.where(TranslationEntry.kind == kind)
    entries = [entry for entry in session.scalars(query) if not channel or channel in entry.channels]
    return sorted(entries, key=lambda entry: (STATUS_ORDER[entry.status], entry.kind, entry.key))


def entry_by_key(session: Session, key: str) -> TranslationEntry:
    sync(session)
    entry = session.scalar(select(TranslationEntry).where(TranslationEntry.key == (key or "").strip()))
    if entry is None:
        raise TranslationRefused("key", "entry_unknown", key=key)
    return entry


def proposal_by_id(session: Session, proposal_id: int) -> TranslationProposal:
    proposal = session.get(TranslationProposal, proposal_id)
    if proposal is None:
        raise TranslationRefused("proposal", "proposal_unknown", id=proposal_id)
    return proposal


def pending(entry: TranslationEntry) -> TranslationProposal | None:
    """The proposal waiting for a second translator, if any."""
    return next((p for p in reversed(entry.proposals) if p.state == ProposalState.PROPOSED), None)


# --- the four eyes -------------------------------------------------------------------

def checked_tibetan(text: str | None) -> str:
    """NFC with the vowel signs as their parts; Tibetan letters only (digits, spaces, punctuation allowed)."""
    raw = (text or "").strip()
    if not raw:
        raise TranslationRefused("bo", "tibetan_empty")
    bo = normalise(" ".join(raw.split()))   # the discouraged vowel signs become their parts, as the files keep them
    if len(bo) > MAX_TIBETAN:
        raise TranslationRefused("bo", "tibetan_length", max=MAX_TIBETAN)
    foreign = [ch for ch in bo if unicodedata.category(ch).startswith("L") and not is_tibetan(ch) or is_han(ch)]
    if foreign or not any(is_tibetan(ch) and unicodedata.category(ch) == "Lo" for ch in bo):
        raise TranslationRefused("bo", "not_tibetan", found="".join(dict.fromkeys(foreign))[:20] or bo[:20])
    return bo


def fits(entry: TranslationEntry, bo: str, settings: Mapping[str, Any] | None = None) -> list[Fit]:
    """The Tibetan measured against each text's budget it is used in (the channels'; CAP fields' too)."""
    result = []
    for text in entry.channels:
        result.append(Fit(text, budget_for(text, settings).measure(bo)))
    return result


def propose(session: Session, actor: User, via: str, entry: TranslationEntry, bo: str | None,
            settings: Mapping[str, Any] | None = None) -> tuple[TranslationProposal, list[Fit]]:
    """A new version for the entry; a proposal still waiting is superseded by it."""
    _translator(actor)
    text = checked_tibetan(bo)
    for earlier in entry.proposals:
        if earlier.state == ProposalState.PROPOSED:
            earlier.state = ProposalState.SUPERSEDED
    version = max((p.version for p in entry.proposals), default=0) + 1
    proposal = TranslationProposal(entry=entry, version=version, bo=text, state=ProposalState.PROPOSED,
                                   proposed_by_id=actor.id, proposed_at=utcnow(), comment="")
    session.add(proposal)
    if entry.status != EntryStatus.APPROVED:
        entry.status = EntryStatus.PROPOSED
    entry.updated_at = proposal.proposed_at
    session.flush()
    measured = fits(entry, text, settings)
    record(session, actor, "translation.propose", entry, via=via, key=entry.key, version=version, bo=text,
           over_budget=[fit.text for fit in measured if not fit.fits])
    return proposal, measured


def approve(session: Session, actor: User, via: str, proposal: TranslationProposal) -> TranslationEntry:
    """The proposal's Tibetan is used from now on, with its proposer and reviewer as the source."""
    now = _decide(actor, proposal, ProposalState.APPROVED)
    entry = proposal.entry
    entry.bo, entry.status = proposal.bo, EntryStatus.APPROVED
    entry.approved_by_id, entry.approved_at, entry.updated_at = actor.id, now, now
    entry.bo_source = desk_source(proposal.proposed_by.username, actor.username, now)
    record(session, actor, "translation.approve", entry, via=via, key=entry.key, version=proposal.version,
           bo=proposal.bo, proposed_by=proposal.proposed_by.username)
    session.flush()
    _OVERLAYS.clear()
    return entry


def return_proposal(session: Session, actor: User, via: str, proposal: TranslationProposal,
                    comment: str | None) -> TranslationEntry:
    """Back to its proposer with a comment; the entry keeps the Tibetan it had (or none)."""
    comment = (comment or "").strip()
    if not comment or len(comment) > MAX_COMMENT:
        raise TranslationRefused("comment", "comment_missing", max=MAX_COMMENT)
    now = _decide(actor, proposal, ProposalState.RETURNED)
    proposal.comment = comment
    entry = proposal.entry
    entry.status = EntryStatus.APPROVED if entry.bo else EntryStatus.MISSING
    entry.updated_at = now
    record(session, actor, "translation.return", entry, via=via, key=entry.key, version=proposal.version,
           comment=comment, proposed_by=proposal.proposed_by.username)
    return entry


def desk_source(proposer: str, reviewer: str, when: datetime) -> str:
    return f"translation desk: proposed by {proposer}, approved by {reviewer} on {beijing_time(when)[:10]}"


def _translator(actor: User) -> None:
    if not isinstance(actor, User) or actor.role != Role.TRANSLATOR or not actor.active:
        raise TranslationRefused("user", "not_translator")


def _decide(actor: User, proposal: TranslationProposal, state: ProposalState) -> datetime:
    _translator(actor)
    if proposal.state != ProposalState.PROPOSED:
        raise TranslationRefused("proposal", "not_proposed", conflict=True, id=proposal.id, state=proposal.state.value)
    if proposal.proposed_by_id == actor.id:
        raise TranslationRefused("user", "four_eyes", conflict=True, user=actor.username)
    now = utcnow()
    proposal.state, proposal.decided_by_id, proposal.decided_at = state, actor.id, now
    return now


def export_hazards(session: Session, text: str) -> tuple[str, list[str]]:
    """hazards.toml's text with the desk's approved hazard names, default and protective actions written in,
    and their keys."""
    approved = list(session.scalars(select(TranslationEntry).where(
        TranslationEntry.approved_by_id.is_not(None), TranslationEntry.kind.in_(HAZARD_KINDS),
        TranslationEntry.bo.is_not(None)).order_by(TranslationEntry.key)))
    names = {entry.hazard_code: Approved(entry.bo, entry.bo_source) for entry in approved
             if entry.kind == "hazard" and entry.hazard_code and entry.bo}
    actions = {(entry.hazard_code, entry.key.rsplit(":", 1)[1]): Approved(entry.bo, entry.bo_source)
               for entry in approved if entry.kind == "action" and entry.hazard_code and entry.bo}
    protective = {entry.key.removeprefix(chosen_action_key("")): Approved(entry.bo, entry.bo_source)
                  for entry in approved if entry.kind == "action" and not entry.hazard_code and entry.bo}
    return export.export_hazards(text, names, actions, protective), [entry.key for entry in approved]


# --- the overlay the renderer reads ----------------------------------------------------

_OVERLAYS: dict[tuple[object, ...], Overlay] = {}


def overlay(session: Session) -> Overlay:
    """The desk's approved Tibetan for the renderer (entry key -> Tibetan), rebuilt only when an approval changed
    the version key (any process)."""
    return _approved(session, RENDERED_KINDS, TranslationEntry.key)


def catalog_overlay(session: Session) -> Overlay:
    """The desk's approved catalog entries for the Tibetan console (msgid -> Tibetan), consulted before the bo
    .mo; cached like `overlay`, so an approval changes the next page."""
    return _approved(session, CATALOG_KINDS, TranslationEntry.en)


def _approved(session: Session, kinds: frozenset[str], by: Any) -> Overlay:
    approved = (TranslationEntry.approved_by_id.is_not(None), TranslationEntry.kind.in_(kinds))
    version = (kinds, *session.execute(select(func.count(), func.max(TranslationEntry.approved_at))
                                       .where(*approved)).one())
    cached = _OVERLAYS.get(version)
    if cached is None:
        rows = session.execute(select(by, TranslationEntry.bo).where(*approved))
        cached = Overlay(version, MappingProxyType({key: bo for key, bo in rows if bo}))
        for stale in [key for key in _OVERLAYS if key[0] == kinds]:
            del _OVERLAYS[stale]
        _OVERLAYS[version] = cached
    return cached


# --- what is listed --------------------------------------------------------------------

def _all_items(session: Session) -> Iterable[Item]:
    yield from items(default_templates())
    texts = default_templates().texts
    for area in session.scalars(select(NamedArea).where(NamedArea.active)):
        yield Item(area_key(area.code), "place", area.name_zh, area.name_en, area.name_bo or "",
                   area.source if area.name_bo else "", None, texts, "named area (scenic area)")
    yield from catalog_items()


def catalog_items(catalogs: Path = CATALOGS) -> Sequence[Item]:
    """The console's messages: English msgid, the zh catalog's Chinese, the bo catalog's Tibetan if any."""
    chinese = {message.id: message.string for message in _catalog(catalogs, "zh") if message.id}
    result = []
    for message in _catalog(catalogs, "bo"):
        if not message.id or not isinstance(message.id, str):
            continue
        stand_in = any(STAND_IN in comment for comment in message.auto_comments)
        bo = (message.string if isinstance(message.string, str) and any(map(is_tibetan, message.string))
              and not stand_in else "")
        zh = chinese.get(message.id)
        key = f"catalog:{message.id}" if len(message.id) <= 190 else f"catalog:#{hashlib.sha256(message.id.encode()).hexdigest()}"
        result.append(Item(key, "catalog", zh if isinstance(zh, str) else message.id,
                           message.id, "" if message.fuzzy else bo, "bo catalog" if bo else "", None, (),
                           "the console's Tibetan interface"))
    return result


def export_catalog(session: Session, text: str) -> tuple[str, list[str]]:
    """The bo messages.po's text with the desk's approved catalog entries as msgstr, each with its proposer,
    reviewer and date as the comment in place of the stand-in's; edited line by line, so the rest stays as
    people wrote it. Returns the text and the msgids written."""
    approved = {entry.en: entry for entry in session.scalars(select(TranslationEntry).where(
        TranslationEntry.approved_by_id.is_not(None), TranslationEntry.kind.in_(CATALOG_KINDS)))
        if entry.bo}
    lines = text.split("\n")
    found = [message for message in read_po(io.StringIO(text), locale="bo")
             if isinstance(message.id, str) and message.id in approved]
    for message in sorted(found, key=lambda message: message.lineno, reverse=True):
        entry = approved[message.id]
        start = message.lineno - 1                      # the msgid line
        end = next(index for index in range(start, len(lines)) if lines[index].startswith("msgstr"))
        after = end + 1
        while after < len(lines) and lines[after].startswith('"'):
            after += 1
        lines[end:after] = [f"msgstr {escape(entry.bo)}"]
        top = start
        while top > 0 and lines[top - 1].startswith("#"):
            top -= 1
        kept = [line for line in lines[top:start] if not line.startswith("#.")]
        lines[top:start] = [f"#. {entry.bo_source}", *kept]
    return "\n".join(lines), [message.id for message in found]


def export_named_areas(session: Session) -> list[str]:
    """The desk's approved named-area names written into each active area's row (`name_bo`), each change in the
    ledger with its source (the row has no column for it); returns the keys written."""
    written = []
    for area in session.scalars(select(NamedArea).where(NamedArea.active).order_by(NamedArea.code)):
        entry = session.scalar(select(TranslationEntry).where(TranslationEntry.key == area_key(area.code),
                                                              TranslationEntry.approved_by_id.is_not(None)))
        if entry is None or not entry.bo or entry.bo == area.name_bo:
            continue
        record(session, None, "named_area.name_bo", area, via="cli", code=area.code, before=area.name_bo,
               name_bo=entry.bo, source=entry.bo_source)
        area.name_bo = entry.bo
        written.append(entry.key)
    return written


def export_counties(session: Session, text: str) -> tuple[str, list[str]]:
    """counties.csv's text with the desk's approved county, city and prefecture names as `name_bo` and their
    proposer, reviewer and date as `source_bo`; the keys written. `text` as read with newline="" (the file has
    CRLF endings, kept). `flask seed regions` loads it."""
    approved = {entry.key: entry for entry in session.scalars(select(TranslationEntry).where(
        TranslationEntry.approved_by_id.is_not(None), TranslationEntry.kind == "place",
        TranslationEntry.key.not_like(area_key("%"))))}
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    code, name, source = (header.index(column) for column in ("code", "name_bo", "source_bo"))
    written = []
    for row in rows[1:]:
        entry = approved.get(place_key(row[code]))
        if entry is not None and entry.bo:
            row[name], row[source] = entry.bo, entry.bo_source
            written.append(entry.key)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n" if "\r\n" in text else "\n").writerows(rows)   # the file's own endings
    return out.getvalue(), written


def compile_catalog(po: Path, mo: Path) -> None:
    """The .mo gettext reads, from the .po (fuzzy entries left out, as pybabel compile does)."""
    with open(po, "rb") as source:
        catalog = read_po(source, locale="bo")
    with open(mo, "wb") as target:
        write_mo(target, catalog)


def _catalog(catalogs: Path, language: str) -> Any:
    with open(catalogs / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)
