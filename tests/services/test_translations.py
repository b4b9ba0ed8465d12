"""The translation desk (services/translations.py): the list, four eyes, the ledger, and the renderer using
an approved entry at once. The Tibetan proposed here is a fixture typed as "the translator" would
(tests/support/text.py), never made up by the program."""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.console import make_user
from tests.support.text import CHINESE, TIBETAN
from warning_service.audit.ledger import verify
from warning_service.extensions import db
from warning_service.hazards import catalogue
from warning_service.models import AuditEvent, EntryStatus, ProposalState, Role, utcnow
from warning_service.rendering.formatting import place_name
from warning_service.rendering.render import AlertView, NamedPlace, render
from warning_service.services import translations
from warning_service.services.translations import TranslationRefused

ACTION = "action:flash_flood:red"


# One instant for every rendering in a run, so two renderings differ only by the desk, never by a minute
# that turned between them.
NOW = utcnow()


def flash_flood_sms() -> tuple[str, tuple[str, ...]]:
    view = AlertView(hazard_code="flash_flood", level="red", status="Actual", msg_type="Alert",
                     county_codes=("513301",), onset=NOW, expires=NOW + timedelta(hours=6), sent=NOW)
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
    offered = {f"action:{code}" for codes in catalogue().get("flash_flood").choices.values() for code in codes}
    assert "action:move_to_high_ground" in offered and "action:report_fire" not in offered
    assert {entry.key for entry in flood} == {"hazard:flash_flood", *offered, *(
        f"action:flash_flood:{level}" for level in ("red", "orange", "yellow", "blue", "default"))}
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


def test_an_approved_protective_action_is_what_to_do_where_it_is_chosen(app, translators):
    proposer, reviewer = translators
    entry = translations.entry_by_key(db.session, "action:move_to_high_ground")
    assert (entry.kind, entry.zh, entry.status) == ("action", "立即向高处转移", EntryStatus.MISSING)
    assert "move_to_high_ground for" in entry.used_in and "flash_flood" in entry.used_in
    proposal, _ = translations.propose(db.session, proposer, "test", entry, TIBETAN)
    translations.approve(db.session, reviewer, "test", proposal)
    db.session.commit()
    now = utcnow()
    view = AlertView(hazard_code="flash_flood", level="red", status="Actual", msg_type="Alert",
                     county_codes=("513301",), onset=now, expires=now + timedelta(hours=6), sent=now,
                     actions=("move_to_high_ground", "do_not_wade"))
    rendered = render(view, "sms", "bo")
    assert TIBETAN in rendered.text and "立即向高处转移" not in rendered.text
    assert "不要涉水过河" in rendered.text and "不要涉水过河" in rendered.missing_terms   # not approved: Chinese stands in
    assert "立即向高处转移" not in rendered.missing_terms and "防御指引" not in rendered.missing_terms
    default = render(replace(view, actions=()), "sms", "bo")   # nothing chosen: the level's default action, in Chinese
    assert TIBETAN not in default.text and "防御指引" in default.missing_terms


def test_approved_place_names_are_used_where_the_files_have_none_or_another(app, translators, hailuogou):
    proposer, reviewer = translators
    now = utcnow()
    view = AlertView(hazard_code="gale", level="blue", status="Actual", msg_type="Alert",
                     county_codes=("513301",), onset=now, expires=now + timedelta(hours=6), sent=now,
                     named_places=(NamedPlace("海螺沟", None, "hailuogou"),))
    before = render(view, "sms", "bo")
    assert "海螺沟" in before.text and "海螺沟" in before.missing_terms and "དར་མདོ་གྲོང་ཁྱེར" in before.text
    area, county = (translations.entry_by_key(db.session, key) for key in ("place:area:hailuogou", "place:513301"))
    assert (area.status, county.status, county.bo) == (EntryStatus.MISSING, EntryStatus.APPROVED, "དར་མདོ")
    for entry, bo in ((area, "ཉེན་བརྡ"), (county, "ས་ཡོམ")):   # fixtures (text.py), typed as a translator would
        proposal, _ = translations.propose(db.session, proposer, "test", entry, bo)
        translations.approve(db.session, reviewer, "test", proposal)
    db.session.commit()
    after = render(view, "sms", "bo")
    assert "海螺沟" not in after.text and "海螺沟" not in after.missing_terms and "ཉེན་བརྡ" in after.text
    assert "ས་ཡོམ་གྲོང་ཁྱེར" in after.text and "དར་མདོ" not in after.text   # the county's suffix stays the files'
    assert "康定市" in render(view, "sms", "zh").text and "海螺沟" in render(view, "sms", "zh").text
    assert place_name("513301", "bo") == "དར་མདོ་གྲོང་ཁྱེར"   # outside a text (console pages): the files' name
