"""The translation desk (services/translations.py): the list, four eyes, the ledger, and the renderer using
an approved entry at once. The Tibetan proposed here is a fixture typed as "the translator" would
(tests/support/text.py), never made up by the program."""
from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.console import make_user
from tests.support.text import CHINESE, TIBETAN
from warning_service.audit.ledger import verify
from warning_service.extensions import db
from warning_service.models import AuditEvent, EntryStatus, ProposalState, Role, utcnow
from warning_service.rendering.render import AlertView, render
from warning_service.services import translations
from warning_service.services.translations import TranslationRefused

ACTION = "action:flash_flood:red"


def flash_flood_sms() -> tuple[str, tuple[str, ...]]:
    now = utcnow()
    view = AlertView(hazard_code="flash_flood", level="red", status="Actual", msg_type="Alert",
                     county_codes=("513301",), onset=now, expires=now + timedelta(hours=6), sent=now)
    rendered = render(view, "sms", "bo")
    return rendered.text, rendered.missing_terms


@pytest.fixture
def translators(app):
    return make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)


def test_missing_entries_come_first_and_filter_by_hazard_and_channel(app):
    entries = translations.list_entries(db.session)
    statuses = [entry.status for entry in entries]
    assert statuses == sorted(statuses, key=translations.STATUS_ORDER.get)
    assert statuses[0] == EntryStatus.MISSING and EntryStatus.APPROVED in statuses
    kinds = {entry.kind for entry in entries}
    assert {"hazard", "action", "level", "term", "place", "catalog"} <= kinds
    flood = translations.list_entries(db.session, hazard="flash_flood")
    assert {entry.key for entry in flood} == {"hazard:flash_flood", *(f"action:flash_flood:{level}" for level in
                                                                     ("red", "orange", "yellow", "blue", "default"))}
    action = next(entry for entry in flood if entry.key == ACTION)
    assert (action.zh, action.bo, action.status) == ("立即向高处转移，不要涉水过河。", None, EntryStatus.MISSING)
    assert all("sms" in entry.channels for entry in translations.list_entries(db.session, channel="sms"))
    assert not any(entry.kind == "catalog" for entry in translations.list_entries(db.session, channel="sms"))
    earthquake = translations.entry_by_key(db.session, "hazard:earthquake")
    assert earthquake.status == EntryStatus.APPROVED and earthquake.bo == "ས་ཡོམ" and "WXR" in earthquake.bo_source


def test_a_proposal_is_nfc_tibetan_and_measured_against_the_budgets(app, translators):
    proposer, _ = translators
    entry = translations.entry_by_key(db.session, ACTION)
    proposal, fits = translations.propose(db.session, proposer, "test", entry,
                                          "  " + unicodedata.normalize("NFD", TIBETAN) + " ")
    assert proposal.bo == unicodedata.normalize("NFC", TIBETAN) and proposal.version == 1
    assert entry.status == EntryStatus.PROPOSED
    sms = next(fit for fit in fits if fit.text == "sms")
    assert sms.fits and sms.measure.encoding == "UCS-2" and sms.measure.parts == 1
    assert translations.checked_tibetan("ཀ\u0f73") == "ཀ\u0f71\u0f72"   # a discouraged vowel sign, as its parts
    for bad, code in [(CHINESE, "not_tibetan"), (TIBETAN + " abc", "not_tibetan"), ("", "tibetan_empty")]:
        with pytest.raises(TranslationRefused) as refused:
            translations.propose(db.session, proposer, "test", entry, bad)
        assert refused.value.code == code
    officer = make_user("officer", Role.DUTY_OFFICER)
    with pytest.raises(TranslationRefused, match="only a translator"):
        translations.propose(db.session, officer, "test", entry, TIBETAN)


def test_a_second_translator_approves_and_the_next_rendering_uses_it(app, translators):
    proposer, reviewer = translators
    before, missing_before = flash_flood_sms()
    assert "立即向高处转移" in before and "防御指引" in missing_before
    entry = translations.entry_by_key(db.session, ACTION)
    proposal, _ = translations.propose(db.session, proposer, "test", entry, TIBETAN)
    with pytest.raises(TranslationRefused) as refused:
        translations.approve(db.session, proposer, "test", proposal)
    assert refused.value.code == "four_eyes"
    assert flash_flood_sms() == (before, missing_before)   # proposed is not used
    translations.approve(db.session, reviewer, "test", proposal)
    db.session.commit()
    after, missing_after = flash_flood_sms()
    assert TIBETAN in after and "立即向高处转移" not in after
    assert len(missing_after) == len(missing_before) - 1 and "防御指引" not in missing_after
    assert (entry.bo, entry.status, entry.approved_by_id) == (TIBETAN, EntryStatus.APPROVED, reviewer.id)
    assert "proposed by tr-a, approved by tr-b" in entry.bo_source
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.detail["key"]) for e in events] == [
        ("translation.propose", proposer.id, ACTION), ("translation.approve", reviewer.id, ACTION)]
    assert verify(db.session)[1] is None
    with pytest.raises(TranslationRefused, match="not waiting"):
        translations.approve(db.session, reviewer, "test", proposal)


def test_a_returned_proposal_needs_a_comment_and_is_not_used(app, translators):
    proposer, reviewer = translators
    entry = translations.entry_by_key(db.session, "term:取消")
    first, _ = translations.propose(db.session, proposer, "test", entry, TIBETAN)
    second, _ = translations.propose(db.session, proposer, "test", entry, "ཉེན་བརྡ")
    assert (first.state, second.version) == (ProposalState.SUPERSEDED, 2)
    with pytest.raises(TranslationRefused) as refused:
        translations.return_proposal(db.session, reviewer, "test", second, "  ")
    assert refused.value.code == "comment_missing"
    translations.return_proposal(db.session, reviewer, "test", second, "语序不对")
    db.session.commit()
    assert (second.state, second.comment, entry.status, entry.bo) == (ProposalState.RETURNED, "语序不对",
                                                                       EntryStatus.MISSING, None)
    assert translations.pending(entry) is None
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "translation.return"))
    assert event.detail["comment"] == "语序不对" and event.actor_id == reviewer.id
